"""Exports the untrained network of LipSim's architecture (read from its model card), seeded: the random-
initialisation floor that `npm run eval` measures beside the trained models. Generated on demand rather than
kept in git, since it is a function of the architecture and the seed alone.

    python3 export_init.py --card models/lipsim.json --out cache/floors/lipsim-init.onnx
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from export import export_embedding  # noqa: E402
from network import ARCHITECTURE_KEYS, Backbone, Frozen  # noqa: E402



def main():
    p = argparse.ArgumentParser()
    p.add_argument('--card', default='models/lipsim.json')
    p.add_argument('--out', required=True)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    architecture = json.load(open(a.card))['architecture']
    torch.manual_seed(a.seed)
    model = Backbone(robust=True, **{k: architecture[k] for k in ARCHITECTURE_KEYS if k in architecture}).eval()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    export_embedding(Frozen(model), a.out + '.tmp')
    os.replace(a.out + '.tmp', a.out)
    print(f'wrote {a.out}', flush=True)


if __name__ == '__main__':
    main()
