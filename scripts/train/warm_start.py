"""Rebuilds a trainable LipSim backbone from an exported models/lipsim.onnx, so that a new stage can start from
the shipped weights when their training checkpoint is gone (checkpoints are not kept in git).

The ONNX file holds the frozen constants in Frozen's op order: normalised 1x1 / dense weights and biases, SLL
kernels, biases and T^-1. Weights and biases are copied as they are. T^-1 is not a parameter: T = G q / q with G
the Gram bound of the kernel and q = exp(log_q) learned, so log_q is fitted until T(q) matches the stored T; the
rebuilt network then equals the exported one up to that fit (reported), and stays 1-Lipschitz by construction.

    python3 warm_start.py models/lipsim.onnx .checkpoints/shipped.pt [--thumbnail]
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from layers import SAFETY, EPS, conv_gram_bound  # noqa: E402
from network import ARCHITECTURE_KEYS, Backbone, add_thumbnail_branch  # noqa: E402


def onnx_constants(path):
    """The exported graph's initializers by name, and their names in the order the graph first uses them (the
    exporter folds the 1x1 projections and the convolutions' T^-1 into unnamed constants, found by that order)."""
    graph = onnx.load(path).graph
    named = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    order = []
    for node in graph.node:
        for name in node.input:
            if name in named and name not in order:
                order.append(name)
    return named, order


@torch.enable_grad()
def fit_log_q(gram, t_target, steps=2000):
    """log_q such that (G q / q) * SAFETY + EPS matches the stored T, in log space."""
    gram = gram.detach()
    log_q = torch.zeros(len(t_target), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([log_q], lr=0.05)
    target = torch.log(t_target.double())
    for _ in range(steps):
        q = log_q.exp()
        t = (gram.double() @ q / q) * SAFETY + EPS
        loss = ((t.log() - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return log_q.detach().float(), loss.item() ** 0.5


def backbone_from_onnx(path, architecture):
    """architecture: the model card's "architecture" (the thumbnail branch's angle is recorded there, since the
    exporter folds cos and sin into other constants)."""
    named, order = onnx_constants(path)
    model = Backbone(robust=True, **{k: architecture[k] for k in ARCHITECTURE_KEYS if k in architecture})
    frozen = {k.split('.', 1)[1]: v for k, v in named.items() if k.startswith('frozen.')}
    anonymous = [named[n] for n in order if not n.startswith('frozen.')]
    conv_weights = [w for w in anonymous if w.dim() == 4 and w.shape[-1] == 1 and w.shape[0] > 1]
    conv_t_inv = [w.flatten() for w in anonymous if w.dim() == 4 and w.shape[0] == 1]
    errors = []
    with torch.no_grad():
        op = 0
        for i, (proj, stage) in enumerate(zip(model.proj, model.stages)):
            op += 1  # unshuffle
            proj.weight.copy_(conv_weights[i][:, :, 0, 0])
            proj.bias.copy_(frozen[f'op{op}_2'])
            op += 1
            for layer in stage:
                layer.kernel.copy_(frozen[f'op{op}_1'])
                layer.bias.copy_(frozen[f'op{op}_2'])
                t_inv = conv_t_inv.pop(0)
                log_q, err = fit_log_q(conv_gram_bound(layer.kernel), 1.0 / t_inv)
                layer.log_q.copy_(log_q)
                errors.append(err)
                op += 1
        op += 1  # pool
        if model.thumbnail:
            model.layout_angle.fill_(architecture['thumbnail_angle'])
            op += 1
        model.head_in.weight.copy_(frozen[f'op{op}_1'])
        model.head_in.bias.copy_(frozen[f'op{op}_2'])
        op += 1
        for layer in model.dense:
            layer.weight.copy_(frozen[f'op{op}_1'])
            layer.bias.copy_(frozen[f'op{op}_2'])
            t = 1.0 / frozen[f'op{op}_3']
            log_q, err = fit_log_q((layer.weight @ layer.weight.t()).abs(), t)
            layer.log_q.copy_(log_q)
            errors.append(err)
            op += 1
        model.head_out.weight.copy_(frozen[f'op{op}_1'])
        model.head_out.bias.copy_(frozen[f'op{op}_2'])
    return model, max(errors)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('onnx')
    p.add_argument('out')
    p.add_argument('--card', help='its model card (default: the .json beside the .onnx file)')
    p.add_argument('--thumbnail', action='store_true', help='add the thumbnail branch if the model has none')
    p.add_argument('--golden', help='golden-inputs folder: also report the largest difference between the rebuilt '
                                    'network and the golden embeddings of the exported one (golden.json beside it)')
    a = p.parse_args()
    card = json.load(open(a.card or os.path.splitext(a.onnx)[0] + '.json'))
    model, err = backbone_from_onnx(a.onnx, card['architecture'])
    if a.thumbnail and not model.thumbnail:
        model = add_thumbnail_branch(model)
    print(f'rebuilt from {a.onnx}: max RMS log-error of T {err:.2e}', flush=True)
    if a.golden:
        files = json.load(open(os.path.join(a.golden, 'files.json')))
        x = torch.from_numpy(np.fromfile(os.path.join(a.golden, 'inputs.f32'), dtype=np.float32).reshape(len(files), 3, 224, 224))
        golden = json.load(open(os.path.join(os.path.dirname(a.onnx), 'golden.json')))['models']['lipsim']['embedding']
        with torch.no_grad():
            diff = (model.eval()(x) - torch.tensor(golden)).abs().max().item()
        print(json.dumps({'max_abs_difference': diff}), flush=True)
    torch.save({'model': model.state_dict(), 'robust': True, 'config': model.config, 'step': 0, 'elapsed': 0.0,
                'history': [], 'args': {'stage': 'warm-start', 'source': a.onnx}}, a.out)


if __name__ == '__main__':
    main()
