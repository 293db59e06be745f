import importlib.util, torch, triton
from triton.testing import do_bench
torch.set_default_device("cuda")
print(torch.cuda.get_device_name())
def load(p, nm):
    s = importlib.util.spec_from_file_location(nm, p); m = importlib.util.module_from_spec(s); s.loader.exec_module(m); return m
def run(name, cfg, variants, passes):
    prob = load(f"eval_harness/problems/{name}.py", "p")
    if cfg:
        for k, v in prob.KEVOLVE_CONFIGS[cfg].items(): setattr(prob, k, v)
    torch.manual_seed(0); m = prob.Model(*prob.get_init_inputs())
    torch.manual_seed(1); inp = prob.get_inputs()
    with torch.no_grad():
        ref = m(*inp)
        te = do_bench(lambda: m(*inp), return_mode="median")
        print(f"{name} {cfg} eager {te:.3f} ms")
        for var in variants:
            c = load(f"benchmarks/candidates/{name}.py", "c")
            w = var.pop("warps", None)
            for k, v in var.items(): setattr(c, k, v)
            if w is not None: c._num_warps = lambda b, w=w: w
            torch.manual_seed(0); mn = c.ModelNew(*prob.get_init_inputs())
            out = mn(*inp); ok = torch.allclose(out, ref, atol=1e-4, rtol=1e-4)
            tc = do_bench(lambda: mn(*inp), return_mode="median")
            print(f"   {var} warps={w}: {tc:.3f} ms  {passes*inp[0].numel()*4/tc/1e9:.2f} TB/s(min bytes) ok={ok}", flush=True)
run("softmax_rows", "odd", [{}, {"LOOP_BLOCK": 4096, "warps": 16}, {"LOOP_BLOCK": 8192, "warps": 16}, {"LOOP_BLOCK": 8192, "warps": 8}, {"LOOP_BLOCK": 2048, "warps": 4}, {"LOOP_BLOCK": 2048, "warps": 8}, {"LOOP_BLOCK": 16384, "warps": 16}, {"LOOP_BLOCK": 1024, "warps": 4}], 2)
run("softmax_rows", None, [{}, {"warps": 8}, {"warps": 32}], 2)
run("layernorm_affine", "odd", [{}, {"warps": 8}, {"warps": 4}, {"warps": 32}, {"MAX_FUSED_COLS": 4096, "LOOP_BLOCK": 2048, "warps": 8}, {"MAX_FUSED_COLS": 4096, "LOOP_BLOCK": 1024, "warps": 4}], 2)
run("layernorm_affine", None, [{}, {"warps": 4}, {"warps": 16}], 2)
run("rmsnorm_rows", "odd", [{}, {"warps": 8}, {"warps": 4}], 2)
run("loss_cross_entropy", "odd", [{}, {"MAX_BLOCK": 8192}, {"MAX_BLOCK": 2048}], 1)
