#!/usr/bin/env python3
"""tools/plot_resolution.py on a hand-written run: which lines it charts (VMamba-T's model
benchmark without overrides, the three timm peers; not training lines, other dtypes or other
configs), the throughput relative to the best peer computed by hand, a clear error on a
second line for the same point, and the PNG (where matplotlib is installed)."""
import importlib.util
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "plot_resolution.py"
spec = importlib.util.spec_from_file_location("plot_resolution", SCRIPT)
plot_resolution = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot_resolution)

VMAMBA = "configs/backbones/vmamba_tiny.yaml"


def model_line(res, ips, dtype="bf16", overrides=(), cmd="build-dev/bench/vss-bench model --device cuda"):
    return {"config": VMAMBA, "H": res, "W": res, "dtype": dtype, "images_per_s": ips,
            "overrides": list(overrides), "cmd": cmd}


def peer_line(model, res, ips, mode=None):
    line = {"model": model, "res": res, "dtype": "bf16", "images_per_s": ips}
    if mode:
        line["mode"] = mode
    return line


LINES = [
    model_line(224, 100.0), model_line(1024, 30.0),
    model_line(224, 999.0, dtype="fp32"),                        # another dtype
    model_line(224, 999.0, overrides=["fused_scan=false"]),      # an ablation
    model_line(224, 999.0, cmd="build-dev/bench/vss-bench train --config x"),  # a training step
    peer_line("convnext_tiny", 224, 200.0), peer_line("vit_small_patch16_224", 224, 400.0),
    peer_line("swin_tiny_patch4_window7_224", 1024, 20.0), peer_line("convnext_tiny", 1024, 25.0),
    peer_line("convnext_tiny", 224, 999.0, mode="train"),          # peers' training steps
]


class PlotResolutionTest(unittest.TestCase):
    def write(self, folder, lines):
        path = Path(folder) / "run.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        return path

    def test_reads_the_inference_points_and_ratios_to_the_best_peer(self):
        with tempfile.TemporaryDirectory() as folder:
            points = plot_resolution.read_points(self.write(folder, LINES), "bf16")
        self.assertEqual(points["VMamba-T (vsskit)"], {224: 100.0, 1024: 30.0})
        self.assertEqual(points["ConvNeXt-T"], {224: 200.0, 1024: 25.0})
        self.assertEqual(points["ViT-S"], {224: 400.0})
        self.assertEqual(points["Swin-T"], {1024: 20.0})
        rel = plot_resolution.relative_to_best_peer(points)
        self.assertAlmostEqual(rel["VMamba-T (vsskit)"][224], 100.0 / 400.0)   # ViT-S is best at 224
        self.assertAlmostEqual(rel["VMamba-T (vsskit)"][1024], 30.0 / 25.0)    # ConvNeXt-T at 1024
        self.assertAlmostEqual(rel["Swin-T"][1024], 20.0 / 25.0)

    def test_a_second_line_for_one_point_is_a_one_line_error(self):
        with tempfile.TemporaryDirectory() as folder:
            path = self.write(folder, [model_line(224, 1.0), model_line(224, 2.0)])
            r = subprocess.run([sys.executable, str(SCRIPT), str(path), "-o", str(Path(folder) / "c.png")],
                               capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stderr.strip(),
                         f"plot_resolution.py: {path}:2: a second bf16 line for VMamba-T (vsskit) at 224")

    def test_writes_the_png(self):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            self.skipTest("matplotlib is not installed")
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "charts" / "c.png"
            r = subprocess.run([sys.executable, str(SCRIPT), str(self.write(folder, LINES)), "-o", str(out)],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(out.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(sorted(p.name for p in out.parent.iterdir()), ["c.png"])  # no temporary left


if __name__ == "__main__":
    unittest.main()
