"""Layers of the LipSim backbone. Each layer is 1-Lipschitz in the l2 norm by construction, so their
composition is 1-Lipschitz from model-input pixels to the embedding.

SLL (SDP-based Lipschitz Layers, Araujo et al. 2023): phi(x) = x - 2 W T^-1 relu(W^T x + b) is 1-Lipschitz
whenever the diagonal T satisfies T >= W^T W (as quadratic forms). We take
    T_i = sum_j G_ij q_j / q_i,  with G >= |W^T W| entrywise and q > 0 learned,
which implies T >= W^T W (a q-weighted Gershgorin argument). The rescaling q is implemented as in the paper
(1/q_i and q_j on different axes); it does not cancel.

- Dense layers use G = |W^T W| exactly.
- Conv layers use G_ij = sum over shifts s of |sum_c,p K_icp K_jc(p+s)|: the absolute Gram kernel of the
  convolution, summed over its 5x5 shifts (as in the paper). With circular padding every row of the Gram
  operator is exactly such a sum; with the zero padding used here, W^T is R C E (embed the input into a torus
  two pixels larger, circular convolution, restrict to the grid), so W^T W = R C (E E^T) C^T R^T <= R C C^T R^T
  <= T, since E E^T is a projection and the bound holds on the torus. Costs O(25 * 9 * C^3) a step, once per
  batch, not per image. (An earlier bound, sum_c (sum_p |K_icp|)(sum_p |K_jcp|), avoided that cost but
  penalised mixed-sign kernels such as edge detectors: on trained kernels T was a median 1.05-2.5x larger per
  layer, up to 16x for some channels.)

Every layer has a `vjp` used by the exported gradient graph: phi's Jacobian is I - 2 W^T D W with D diagonal,
which is symmetric, so the vector-Jacobian product is g - 2 W^T (D (W g)).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-6
# T is enlarged by this relative margin so float32 rounding can never take it below its bound.
SAFETY = 1 + 1e-4


def affine(x, weight, bias):
    """weight applied per pixel on feature maps (a 1x1 convolution), or to vectors."""
    if x.dim() == 4:
        return F.conv2d(x, weight[:, :, None, None], bias)
    return F.linear(x, weight, bias)


def conv_kernel(channels, kernel):
    k = torch.empty(channels, channels, kernel, kernel)
    nn.init.kaiming_normal_(k)
    return nn.Parameter(k / math.sqrt(channels))


def dense_weight(features):
    w = torch.empty(features, features)
    nn.init.xavier_normal_(w)
    return nn.Parameter(w)


def conv_adjoint(h, kernel, pad):
    """conv_transpose2d(h, kernel, padding=pad) for stride 1, written as the convolution with the transposed,
    flipped kernel: the same map, but on the CPU oneDNN runs it (and its backward) while conv_transpose2d falls
    back to a slow kernel; with channels-last inputs a training step takes 3.3 s instead of 5.4 on one core."""
    return F.conv2d(h, kernel.transpose(0, 1).flip(2, 3), padding=kernel.shape[-1] - 1 - pad)


def conv_gram_bound(kernel: torch.Tensor) -> torch.Tensor:
    """G_ij = sum over shifts of |Gram kernel|_ij of the convolution with `kernel` (hidden x input x k x k)."""
    return F.conv2d(kernel, kernel, padding=kernel.shape[-1] - 1).abs().sum(dim=(2, 3))


class SLLConv(nn.Module):
    def __init__(self, channels: int, kernel: int = 3):
        super().__init__()
        self.kernel = conv_kernel(channels, kernel)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.log_q = nn.Parameter(torch.zeros(channels))
        self.pad = kernel // 2

    def t_inverse(self) -> torch.Tensor:
        q = self.log_q.exp()
        t = conv_gram_bound(self.kernel) @ q / q
        return 1.0 / (t * SAFETY + EPS)

    def forward(self, x, t_inv=None):
        t_inv = self.t_inverse() if t_inv is None else t_inv
        # T^-1 scales the hidden channels; it is folded into the (small) kernel rather than the (large) map.
        h = F.relu(F.conv2d(x, self.kernel, self.bias, padding=self.pad))
        return x - 2.0 * conv_adjoint(h, self.kernel * t_inv[:, None, None, None], self.pad)


class SLLDense(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = dense_weight(features)
        self.bias = nn.Parameter(torch.zeros(features))
        self.log_q = nn.Parameter(torch.zeros(features))

    def t_inverse(self) -> torch.Tensor:
        q = self.log_q.exp()
        t = (self.weight @ self.weight.t()).abs() @ q / q
        return 1.0 / (t * SAFETY + EPS)

    def forward(self, x, t_inv=None):
        t_inv = self.t_inverse() if t_inv is None else t_inv
        h = F.relu(F.linear(x, self.weight, self.bias)) * t_inv
        return x - 2.0 * h @ self.weight


class SpectralLinear(nn.Module):
    """x -> W x / max(1, sigma_max(W)) + b: an affine map whose linear part has operator norm at most 1 (the
    bias is a translation, which every Lipschitz constant ignores; it lets the net centre its features). Used
    per pixel (a 1x1 conv after pixel-unshuffle, i.e. a learned strided patch projection) and on vectors.
    sigma_max is the exact largest singular value (not a power-iteration estimate), and the exporter checks the
    exported weights' norm again in float64."""

    def __init__(self, fan_in: int, fan_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(fan_out, fan_in))
        nn.init.orthogonal_(self.weight)
        self.bias = nn.Parameter(torch.zeros(fan_out))

    def normalized_weight(self) -> torch.Tensor:
        # sigma_max^2 is the top eigenvalue of the smaller Gram matrix: half the time of an SVD on wide heads.
        w = self.weight.double()
        sigma = torch.linalg.eigvalsh(w @ w.t() if w.shape[0] <= w.shape[1] else w.t() @ w)[-1].clamp(min=0).sqrt().float()
        return self.weight / torch.clamp(sigma * (1 + 1e-5), min=1.0)

    def forward(self, x):
        return affine(x, self.normalized_weight(), self.bias)


class FreeConv(nn.Module):
    """The baseline's counterpart of SLLConv: the same residual shape and cost, no constraint."""

    def __init__(self, channels: int, kernel: int = 3):
        super().__init__()
        self.kernel = conv_kernel(channels, kernel)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.scale = nn.Parameter(torch.full((channels,), 0.1))
        self.pad = kernel // 2

    def forward(self, x):
        h = F.relu(F.conv2d(x, self.kernel, self.bias, padding=self.pad))
        return x - 2.0 * conv_adjoint(h, self.kernel * self.scale[:, None, None, None], self.pad)


class FreeDense(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = dense_weight(features)
        self.bias = nn.Parameter(torch.zeros(features))
        self.scale = nn.Parameter(torch.full((features,), 0.1))

    def forward(self, x):
        return x - 2.0 * (F.relu(F.linear(x, self.weight, self.bias)) * self.scale) @ self.weight


class FreeLinear(nn.Module):
    def __init__(self, fan_in: int, fan_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(fan_out, fan_in))
        nn.init.orthogonal_(self.weight)
        self.bias = nn.Parameter(torch.zeros(fan_out))

    def forward(self, x):
        return affine(x, self.weight, self.bias)
