#!/usr/bin/env bash
# The suite campaign on the lent H100, over consecutive device calls of at most 10 minutes each.
#   bash benchmarks/campaign/run_on_device.sh
# The first call starts the campaign; every later call (with .campaign-state carried) resumes it. Each call
# kills its campaign with SIGKILL at 530 s, so each resume is the kill -9 path: at most the candidates in
# flight are lost. The whole state comes back as $OUT/campaign-state.tgz (see README.md for the next call).
set -uo pipefail
# A warm machine keeps /tmp/site from the previous call: install only what this call carried.
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
fi
export PYTHONPATH=/tmp/site:${PYTHONPATH:-} TRITON_INTERPRET=0 PYTHONUNBUFFERED=1 COLUMNS=160
state=$PWD/.campaign-state
mkdir -p "$state"
places=(--campaigns-dir "$state/campaigns" --runs-dir "$state/runs" --library "$state/library")
options=(--cache-dir "$state/cache" --no-knowledge)
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv > "$OUT/nvidia-smi.csv"
existing=$(ls "$state"/campaigns/*/campaign.sqlite 2>/dev/null | head -n 1)
if [[ -n $existing ]]; then
  id=$(basename "$(dirname "$existing")")
  timeout -s KILL 530 python3 -m kevolve campaign resume "$id" "${places[@]}" "${options[@]}" \
    >> "$state/campaign.log" 2>&1
else
  timeout -s KILL 530 python3 -m kevolve campaign run benchmarks/campaign/suite_h100.yaml --auto-approve \
    "${places[@]}" "${options[@]}" >> "$state/campaign.log" 2>&1
fi
echo "call ended: exit $? at $(date -u +%FT%TZ)" >> "$state/campaign.log"
tail -n 80 "$state/campaign.log"
tar czf "$OUT/campaign-state.tgz" -C "$state" --exclude='*.ncu-rep' --exclude='*.sqlite-journal' .
