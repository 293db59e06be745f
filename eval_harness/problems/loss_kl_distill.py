import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Knowledge-distillation loss per sample: KL(teacher || student) between temperature-softened softmax
    distributions of two logit rows, sum over classes, times temperature^2."""

    def __init__(self, temperature: float):
        super().__init__()
        self.temperature = temperature

    def forward(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
        t = self.temperature
        student_logp = F.log_softmax(student_logits / t, dim=-1)
        teacher_logp = F.log_softmax(teacher_logits / t, dim=-1)
        kl = F.kl_div(student_logp, teacher_logp, reduction="none", log_target=True)
        return kl.sum(dim=-1) * (t * t)


rows = 8192
cols = 32768
temperature = 2.0


def get_inputs():
    # Per-row logit scales make the teacher sharp on some rows and flat on others.
    student = torch.randn(rows, cols) * 2.0
    teacher = torch.randn(rows, cols) * (0.5 + torch.rand(rows, 1) * 5.0)
    return [student, teacher]


def get_init_inputs():
    return [temperature]


KEVOLVE_CATEGORY = "loss"
KEVOLVE_CONFIGS = {
    "small": {"rows": 32, "cols": 512},
    "small_odd": {"rows": 27, "cols": 333},
    "odd": {"rows": 8111, "cols": 32001, "temperature": 3.0},
}
