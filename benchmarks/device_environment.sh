# Sourced by the device scripts (regimes/, recsys/): what the bare GPU image needs before kevolve runs there.
# The wheels the image lacks (the carried .whl folder), then the checkout itself: the image has no kevolve, and
# the repository's folders install under the `kevolve` namespace.
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
fi
python3 -m pip install -q --no-deps --no-build-isolation --no-index --target /tmp/kv . || exit 1
export PYTHONPATH=/tmp/kv:/tmp/site:${PYTHONPATH:-} TRITON_INTERPRET=0 PYTHONUNBUFFERED=1 COLUMNS=160
