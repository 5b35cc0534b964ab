#!/usr/bin/env bash
# Makes the restoration demo data from scikit-image's sample photographs (installed with the
# pip package, nothing is downloaded):  bash tools/restore_demo_data.sh [OUT_DIR]
#   OUT_DIR/train/  rocket, hubble_deep_field, retina (colour), camera, brick, grass, gravel (grey)
#   OUT_DIR/test/   astronaut, chelsea, coffee (held out: never trained on)
# Only freely licensed images are used (skimage.data docstrings):
#   astronaut          NASA, public domain                   hubble_deep_field  NASA, public domain
#   chelsea            Stefan van der Walt, CC0              rocket             SpaceX, public domain
#   coffee             Rachel Michetti, CC0                  retina             Mikael Häggström, CC0
#   camera             Lav Varshney, CC0                     brick, gravel      CC0Textures, CC0
#   grass              DeviantArt linolafett, CC0
# Then, for training without OpenCV (the GPU machine), pack them into an image bank:
#   build/apps/vss-restore pack -i OUT_DIR -o OUT_DIR.safetensors
set -euo pipefail
out=${1:-data/restore_demo}
here=$(cd "$(dirname "$0")/.." && pwd)
python=${VSS_PYTHON:-$here/.venv/bin/python}
data=$("$python" -c 'import os, skimage; print(os.path.join(os.path.dirname(skimage.__file__), "data"))')
mkdir -p "$out/train" "$out/test"
for f in rocket.jpg hubble_deep_field.jpg retina.jpg camera.png brick.png grass.png gravel.png; do
  cp "$data/$f" "$out/train/$f"
done
for f in astronaut.png chelsea.png coffee.png; do
  cp "$data/$f" "$out/test/$f"
done
echo "restoration demo data in $out: $(ls "$out/train" | wc -l) training and $(ls "$out/test" | wc -l) test images"
