#!/usr/bin/env bash
# scripts/model.sh reproduces the default model the page ships,
# www/models/fashion.safetensors, and its test-set samples in www/samples/.
#
#   ./build.sh model              train (see www/models/MODEL.md for the time), evaluate, install
#   ./build.sh model -eval-only   evaluate the committed model on the test set
#
# Data: Fashion-MNIST from the Debian package dataset-fashion-mnist (MIT),
# installed with apt-get when missing and running as root. Set DATA to use
# another copy of the four IDX files.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA="${DATA:-/usr/share/datasets/fashion-mnist}"
RUN="${RUN:-run-fashion}"

if [ ! -e "$DATA/train-images-idx3-ubyte.gz" ]; then
	if [ "$DATA" = /usr/share/datasets/fashion-mnist ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "model.sh: installing dataset-fashion-mnist" >&2
		apt-get install -y dataset-fashion-mnist >&2 || { apt-get update >&2 && apt-get install -y dataset-fashion-mnist >&2; }
	else
		echo "model.sh: no Fashion-MNIST at $DATA: run 'apt-get install dataset-fashion-mnist' as root, or set DATA" >&2
		exit 1
	fi
fi

mkdir -p bin
go build -o bin/train ./train

if [ "${1:-}" = -eval-only ]; then
	exec bin/train -eval www/models/fashion.safetensors -data "$DATA"
fi

# The exact training commands recorded in www/models/MODEL.md: three epochs
# of Adam at 1e-3, then the same run resumed at 1e-4 (a manual schedule step).
EPOCHS="${EPOCHS:-12}"
if [ -e "$RUN" ]; then
	echo "model.sh: retraining from the start: removing the earlier run in $RUN" >&2
	rm -rf "$RUN"
fi
bin/train -arch fashion -data "$DATA" -optimizer adam -lr 1e-3 -batch 64 -epochs 3 -patience 3 -seed 1 -out "$RUN"
bin/train -resume -out "$RUN" -data "$DATA" -lr 1e-4 -epochs "$EPOCHS" -patience 3

bin/train -eval "$RUN/model.safetensors" -data "$DATA" | tee "$RUN/eval.txt"
mkdir -p www/models
cp "$RUN/model.safetensors" www/models/fashion.safetensors.tmp
mv www/models/fashion.safetensors.tmp www/models/fashion.safetensors
bin/train -export-samples www/samples -data "$DATA"
echo "model.sh: www/models/fashion.safetensors ($(wc -c < www/models/fashion.safetensors) bytes); curves in $RUN/curves.png" >&2
