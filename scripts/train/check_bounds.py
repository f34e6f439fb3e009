"""Checks the SLL layers' 1-Lipschitz conditions on explicit operators (small sizes, float64), as the test suite
does: for random kernels (mixed signs, sparse) and random q, T - W^T W must be PSD with the conv layer's zero
padding, and the layer's Jacobian at random points must have spectral norm <= 1. The same checks with T halved
must fail, which shows they can. Prints one JSON object.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from layers import SLLConv, SLLDense  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)


def randomise(layer, weight):
    with torch.no_grad():
        sparse = (torch.rand_like(weight) > 0.5).double() if torch.rand(()) > 0.5 else 1.0
        weight.copy_(torch.randn_like(weight) * sparse)
        layer.bias.copy_(torch.randn_like(layer.bias) * 0.5)
        layer.log_q.copy_(torch.randn_like(layer.log_q))


def conv_operator(layer, channels, grid):
    """The conv layer's input-to-hidden map (W^T in the paper) as a matrix (hidden x input), zero padding as in forward."""
    eye = torch.eye(channels * grid * grid).reshape(-1, channels, grid, grid)
    return F.conv2d(eye, layer.kernel, padding=layer.pad).reshape(channels * grid * grid, -1).t()


def check(layer, shape, wt, t_scale):
    t_inv = layer.t_inverse().detach() / t_scale
    repeat = wt.shape[0] // t_inv.numel()
    psd = torch.linalg.eigvalsh(torch.diag(1 / t_inv.repeat_interleave(repeat)) - wt @ wt.t()).min().item()
    worst_norm = 0.0
    for _ in range(3):
        x = torch.randn(1, *shape)
        jac = torch.autograd.functional.jacobian(lambda v: layer(v, t_inv), x).reshape(x.numel(), x.numel())
        worst_norm = max(worst_norm, torch.linalg.matrix_norm(jac, ord=2).item())
    return psd / (1 / t_inv).max().item(), worst_norm


def main():
    out = {}
    for t_scale, key in ((1.0, 'exact'), (0.5, 'halved')):
        psd, norm = float('inf'), 0.0
        for _ in range(12):
            conv = SLLConv(4)
            randomise(conv, conv.kernel)
            p, n = check(conv, (4, 7, 7), conv_operator(conv, 4, 7), t_scale)
            dense = SLLDense(12)
            randomise(dense, dense.weight)
            q, m = check(dense, (12,), dense.weight, t_scale)
            psd, norm = min(psd, p, q), max(norm, n, m)
        out[key] = {'min_relative_eigenvalue': psd, 'max_jacobian_norm': norm}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
