#!/usr/bin/env bash
# One short GPU session: train two network sizes side by side from scratch, then check the CUDA path of
# inference against the CPU path. Everything worth keeping is packed into $OUT/*.tgz (weights, cards,
# logs; one archive per weights file), refreshed every 40 s so a run stopped at its time limit still
# returns its latest weights.
#
#   MINUTES=7 OUT=/tmp/out bash scripts/gpu-train.sh
#   CONFIGS=finetune INIT=resources/models/veernet-small.safetensors CUDA_CHECK=0 MINUTES=3 OUT=... bash scripts/gpu-train.sh
#
# The machine it was written for: one GPU, 16 cores, python3 with CUDA torch, no network. Packages the
# image lacks (lasio, for the digitize check) may be put as wheels in .whl/ beside the repo root, e.g.
# `pip download --no-deps --only-binary=:all: -d .whl lasio` on a machine with network; they are
# installed into /tmp/site first.
set -u
MINUTES=${MINUTES:-7}
OUT=$(realpath "${OUT:?set OUT to the folder that receives the results}")
RUNS=${RUNS:-/tmp/veerdesk-gpu-runs}
CONFIGS=${CONFIGS:-"large xl"}
INIT=${INIT:-}  # start every run from these weights (else from scratch); INIT_<config>=W for one run
CUDA_CHECK=${CUDA_CHECK:-1}
CUDA_TIMEOUT=${CUDA_TIMEOUT:-240}  # seconds for the CUDA check (bench_cuda.py)
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
mkdir -p "$RUNS" "$OUT"
nvidia-smi -L 2>&1 | tee "$RUNS/machine.txt"
python3 -c "import torch, os; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'cores', os.cpu_count())" \
    2>&1 | tee -a "$RUNS/machine.txt"

pack_one() {  # pack_one NAME PATH... (inside $RUNS): $OUT/NAME.tgz, each archive under the 16 MiB limit
    local name=$1; shift
    tar -czf "$OUT/$name.tgz.part" --ignore-failed-read "$@" 2>/dev/null && mv -f "$OUT/$name.tgz.part" "$OUT/$name.tgz"
}
pack() (
    # Checkpoints (with optimizer state) stay behind: the .safetensors weights are what we keep.
    cd "$RUNS" || exit
    pack_one logs machine.txt ./*.out ./*.json ./*/log.jsonl ./*/*.json
    for name in $CONFIGS; do
        pack_one "$name-best" "$name/best.safetensors" "$name/best.json"
        pack_one "$name-latest" "$name/latest.safetensors" "$name/latest.json"
        if compgen -G "$name/step-*.safetensors" >/dev/null; then  # "keep_snapshots" configs
            pack_one "$name-snapshots" "$name"/step-*.safetensors "$name"/step-*.json
        fi
    done
)

pids=()
for name in $CONFIGS; do
    init_var="INIT_$name"
    init=${!init_var:-$INIT}
    python3 -m veerdesk.ml.train --config "configs/train-gpu-$name.json" --out "$RUNS/$name" --minutes "$MINUTES" \
        ${init:+--init "$init"} >"$RUNS/$name.out" 2>&1 &
    pids+=($!)
done
(while sleep 40; do pack; done) &
packer=$!
for pid in "${pids[@]}"; do wait "$pid"; done
kill "$packer" 2>/dev/null
for name in $CONFIGS; do
    echo "== $name"; grep -E "validation|done|error|Error" "$RUNS/$name.out" | tail -4
done
pack

[ "$CUDA_CHECK" = 1 ] || exit 0
# The CUDA path of inference, with the shipped weights and each run's best and latest checkpoint (the
# selection afterwards may export either).
weights=(resources/models/veernet-small.safetensors)
for name in $CONFIGS; do
    for which in best latest; do
        [ -f "$RUNS/$name/$which.safetensors" ] && weights+=("$RUNS/$name/$which.safetensors")
    done
done
timeout "$CUDA_TIMEOUT" python3 bench/bench_cuda.py --weights "${weights[@]}" --json "$RUNS/cuda.json" 2>&1 | tee "$RUNS/cuda.out"
pack
ls -la "$OUT"
