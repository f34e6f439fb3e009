"""The LipSim backbone and its non-robust baseline (same shape and cost, no constraints), plus the frozen,
export-ready form with a hand-written input-gradient (vector-Jacobian product) pass.

Input: RGB 3x224x224 in [0, 1], no normalisation. Layout (robust):
  unshuffle 8 (isometry)      -> 192 x 28 x 28 -> SpectralLinear 192->w1 per pixel
  depth[0] x SLLConv(w1)      @ 28 x 28
  unshuffle 2 -> SpectralLinear 4w1->w2 ; depth[1] x SLLConv(w2) @ 14 x 14
  unshuffle 2 -> SpectralLinear 4w2->w3 ; depth[2] x SLLConv(w3) @ 7 x 7
  pool over a g x g split of the 7 x 7 map (g = pool_grid): each region's sum divided by sqrt(its area),
      operator norm exactly 1 (g = 1: the global sum-pool / 7); g > 1 keeps where the features are
  [thumbnail branch, optional] [cos a * pooled, sin a * thumbnail(x)]: the input's 16x16 thumbnail (14x14 block
      sums / 14, norm exactly 1) beside the pooled features; the sum-pool discards where things are, the
      thumbnail keeps the coarse layout and colours. cos^2 + sin^2 = 1 keeps the pair 1-Lipschitz.
  SpectralLinear (w3 g^2 [+ 768])->h ; dense_depth x SLLDense(h) ; SpectralLinear h->(dim-1)
  z -> [z, 1] / ||[z, 1]||   (sound projection, see project_to_sphere)
The baseline has the same layout with free weights, standardises its input with the ImageNet mean/std as
conventional networks do (dividing by std < 1 is one of the things that makes them sensitive), and ends with a
plain x/||x||.
"""
import torch
import torch.nn.functional as F
from torch import nn

from layers import FreeConv, FreeDense, FreeLinear, SLLConv, SLLDense, SpectralLinear, affine

SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def standardize(x):
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype)[None, :, None, None]
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype)[None, :, None, None]
    return (x - mean) / std


def standardize_vjp(g):
    return g / torch.tensor(IMAGENET_STD, dtype=g.dtype)[None, :, None, None]


def unshuffle(x, r):
    b, c, h, w = x.shape
    x = x.reshape(-1, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(-1, c * r * r, h // r, w // r)


def unshuffle_vjp(g, r):
    b, c4, h, w = g.shape
    c = c4 // (r * r)
    g = g.reshape(-1, c, r, r, h, w).permute(0, 1, 4, 2, 5, 3)
    return g.reshape(-1, c, h * r, w * r)


def toward_zero(exact, dtype=torch.float32):
    """float64 values stored in dtype, each rounded toward zero rather than to nearest: a stored constant whose
    exact value keeps a norm <= 1 then keeps it too, not 1 + half an ulp."""
    rounded = exact.to(dtype)
    return torch.where(rounded.double().abs() > exact.abs(), torch.nextafter(rounded, torch.zeros_like(rounded)), rounded)


def grid_pool_matrix(h, w, grid, dtype=torch.float32):
    """(grid^2, h*w): row r sums region r of a grid x grid split of the map (np.array_split sizes) divided by
    sqrt(its area). The regions are disjoint, so by Cauchy-Schwarz on each one the operator norm is at most 1;
    grid 1 is the global sum-pool / sqrt(h w)."""
    rows = torch.tensor_split(torch.arange(h), grid)
    cols = torch.tensor_split(torch.arange(w), grid)
    m = torch.zeros(grid * grid, h * w, dtype=torch.float64)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            cells = (r[:, None] * w + c[None, :]).flatten()
            m[i * grid + j, cells] = 1.0 / len(cells) ** 0.5
    return toward_zero(m, dtype)


def grid_pool(x, matrix):
    """(B, C, H, W) -> (B, C * grid^2), channel-major: feature c * grid^2 + r is region r of channel c."""
    return (x.flatten(2) @ matrix.t()).flatten(1)


def grid_pool_vjp(g, matrix, shape):
    _, c, h, w = shape
    return (g.reshape(-1, c, matrix.shape[0]) @ matrix).reshape(-1, c, h, w)


# The constructor arguments of Backbone that a model card's 'architecture' records (the rest is derived).
ARCHITECTURE_KEYS = ('widths', 'depths', 'hidden', 'dense_depth', 'dim', 'thumbnail', 'pool_grid')

THUMB_BLOCK = 14  # 224 / 14 = a 16x16 thumbnail


def thumbnail_kernel(dtype=torch.float32):
    """Per-channel 14x14 block sum divided by 14 = sqrt(196): a strided depthwise convolution whose operator norm
    is exactly 1 (Cauchy-Schwarz on each disjoint block; equality for a constant block)."""
    return torch.full((3, 1, THUMB_BLOCK, THUMB_BLOCK), 1.0 / THUMB_BLOCK, dtype=dtype)


def thumbnail(x):
    return F.conv2d(x, thumbnail_kernel(x.dtype), stride=THUMB_BLOCK, groups=3).flatten(1)


def thumbnail_vjp(g, size):
    g = g.reshape(-1, 3, size // THUMB_BLOCK, size // THUMB_BLOCK)
    return F.conv_transpose2d(g, thumbnail_kernel(g.dtype), stride=THUMB_BLOCK, groups=3)


def project_to_sphere(z):
    """u = [z, 1] / ||[z, 1]||. The map z -> [z, 1] is an isometry onto its image, every image point has norm
    >= 1, and on {||y|| >= 1} the map y -> y/||y|| equals the metric projection onto the closed unit ball,
    which is 1-Lipschitz because the ball is convex. So the projection is 1-Lipschitz everywhere."""
    y = torch.cat([z, torch.ones_like(z[:, :1])], dim=1)
    return y / y.norm(dim=1, keepdim=True)


class Backbone(nn.Module):
    def __init__(self, robust=True, widths=(48, 96, 192), depths=(3, 3, 3), hidden=512, dense_depth=2, dim=256,
                 thumbnail=False, pool_grid=1):
        super().__init__()
        self.robust = robust
        self.config = dict(widths=list(widths), depths=list(depths), hidden=hidden, dense_depth=dense_depth, dim=dim,
                           thumbnail=thumbnail, pool_grid=pool_grid)
        Conv, Dense, Linear = (SLLConv, SLLDense, SpectralLinear) if robust else (FreeConv, FreeDense, FreeLinear)
        ins = [3 * 64, 4 * widths[0], 4 * widths[1]]
        self.proj = nn.ModuleList([Linear(i, w) for i, w in zip(ins, widths)])
        self.stages = nn.ModuleList([nn.ModuleList([Conv(w) for _ in range(d)]) for w, d in zip(widths, depths)])
        self.thumbnail = thumbnail
        # The branch weights are cos/sin of one learned angle; it starts giving the thumbnail a small share.
        self.layout_angle = nn.Parameter(torch.tensor(0.3)) if thumbnail else None
        final = SIZE // 32  # the map after unshuffles 8, 2, 2
        self.register_buffer('pool_matrix', grid_pool_matrix(final, final, pool_grid), persistent=False)
        self.head_in = Linear(widths[-1] * pool_grid ** 2 + (3 * (SIZE // THUMB_BLOCK) ** 2 if thumbnail else 0), hidden)
        self.dense = nn.ModuleList([Dense(hidden) for _ in range(dense_depth)])
        self.head_out = Linear(hidden, dim - 1 if robust else dim)

    def features(self, x):
        pixels = x
        if not self.robust:
            x = standardize(x)
        for i, (proj, stage) in enumerate(zip(self.proj, self.stages)):
            x = proj(unshuffle(x, 8 if i == 0 else 2))
            for layer in stage:
                x = layer(x)
        x = grid_pool(x, self.pool_matrix)
        if self.thumbnail:
            x = torch.cat([x * self.layout_angle.cos(), thumbnail(pixels) * self.layout_angle.sin()], dim=1)
        x = self.head_in(x)
        for layer in self.dense:
            x = layer(x)
        return self.head_out(x)

    def forward(self, x):
        z = self.features(x)
        return project_to_sphere(z) if self.robust else F.normalize(z, dim=1)


def widen_pool(model, grid):
    """The same network pooling over a grid x grid split instead of the whole map: pool_1 = M pool_grid with
    M = [c_r I]_r, c_r = sqrt(area_r / (h w)), and M M^T = I, so head_in's weight becomes W M (same singular
    values, same normalisation) and the embedding is unchanged; the new columns can then learn layout."""
    assert model.config['pool_grid'] == 1, 'widening starts from the global sum-pool'
    wide = Backbone(robust=model.robust, **{**model.config, 'pool_grid': grid})
    state = model.state_dict()
    old = state['head_in.weight']
    channels = model.config['widths'][-1]
    coef = (wide.pool_matrix.sum(dim=1) / model.pool_matrix.sum()).to(old.dtype)  # sqrt(area_r) / sqrt(h w)
    pooled = (old[:, :channels, None] * coef[None, None, :]).reshape(old.shape[0], -1)
    state['head_in.weight'] = torch.cat([pooled, old[:, channels:]], dim=1)
    wide.load_state_dict(state)
    return wide


def add_thumbnail_branch(model):
    """The same network with the thumbnail branch added: head_in gains zero columns for the thumbnail, so the
    embedding is unchanged except for the cos(angle) factor on the pooled features."""
    wide = Backbone(robust=model.robust, **{**model.config, 'thumbnail': True})
    state = model.state_dict()
    old = state['head_in.weight']
    new = torch.zeros(old.shape[0], wide.head_in.weight.shape[1])
    new[:, :old.shape[1]] = old
    state['head_in.weight'] = new
    state['layout_angle'] = wide.layout_angle.detach().clone()
    wide.load_state_dict(state)
    return wide


class Frozen(nn.Module):
    """Constants only (T^-1 and normalised weights precomputed): the graph that is exported.
    forward(pixels, direction) -> (embedding, d<embedding, direction>/d pixels)."""

    def __init__(self, model: Backbone):
        super().__init__()
        self.robust = model.robust
        self.ops = []  # (kind, tensors...)
        with torch.no_grad():
            if not model.robust:
                self.ops.append(('standardize',))

            def weight_of(linear):
                return linear.normalized_weight() if model.robust else linear.weight

            def diag_of(layer):
                return layer.t_inverse() if model.robust else layer.scale

            for i, (proj, stage) in enumerate(zip(model.proj, model.stages)):
                self.ops.append(('unshuffle', 8 if i == 0 else 2))
                self.ops.append(('linear', weight_of(proj).clone(), proj.bias.clone()))
                for layer in stage:
                    self.ops.append(('resconv', layer.kernel.clone(), layer.bias.clone(), diag_of(layer).clone(), layer.pad))
            self.ops.append(('pool', model.pool_matrix.clone()))
            if model.thumbnail:
                # cos and sin rounded toward zero keep cos^2 + sin^2 <= 1 exactly in the stored constants
                angle = model.layout_angle.detach().double().reshape(1)
                self.ops.append(('thumbnail', toward_zero(angle.cos()), toward_zero(angle.sin())))
            self.ops.append(('linear', weight_of(model.head_in).clone(), model.head_in.bias.clone()))
            for layer in model.dense:
                self.ops.append(('resdense', layer.weight.clone(), layer.bias.clone(), diag_of(layer).clone()))
            self.ops.append(('linear', weight_of(model.head_out).clone(), model.head_out.bias.clone()))
        # Registered as buffers so that the exporter stores each constant once, shared by both passes.
        for i, op in enumerate(self.ops):
            for j, item in enumerate(op):
                if isinstance(item, torch.Tensor):
                    self.register_buffer(f'op{i}_{j}', item)

    def embed(self, x):
        """Returns (u, ||y||, activations saved for the backward pass)."""
        saved = []
        pixels = x
        for op in self.ops:
            kind = op[0]
            if kind == 'standardize':
                x = standardize(x)
                saved.append(None)
            elif kind == 'unshuffle':
                x = unshuffle(x, op[1])
                saved.append(None)
            elif kind == 'linear':
                x = affine(x, op[1], op[2])
                saved.append(None)
            elif kind == 'resconv':
                _, k, b, d, pad = op
                pre = F.conv2d(x, k, b, padding=pad)
                gate = (pre > 0).to(x.dtype) * d[None, :, None, None]
                x = x - 2.0 * F.conv_transpose2d(pre * gate, k, padding=pad)
                saved.append(gate)
            elif kind == 'resdense':
                _, w, b, d = op
                pre = F.linear(x, w, b)
                gate = (pre > 0).to(x.dtype) * d
                x = x - 2.0 * (pre * gate) @ w
                saved.append(gate)
            elif kind == 'pool':
                saved.append(x.shape)
                x = grid_pool(x, op[1])
            elif kind == 'thumbnail':
                saved.append(x.shape[1])
                x = torch.cat([x * op[1], thumbnail(pixels) * op[2]], dim=1)
        z = x
        if self.robust:
            y = torch.cat([z, torch.ones_like(z[:, :1])], dim=1)
        else:
            y = z
        norm = y.norm(dim=1, keepdim=True)
        return y / norm, norm, saved

    def forward(self, x, direction):
        u, norm, saved = self.embed(x)
        # d<u, g>/dy = (g - u <u, g>) / ||y||; the constant coordinate has no input dependence.
        g = (direction - u * (u * direction).sum(dim=1, keepdim=True)) / norm
        if self.robust:
            g = g[:, :-1]
        from_thumbnail = 0.0  # the thumbnail branch's share of the input gradient
        for op, keep in zip(reversed(self.ops), reversed(saved)):
            kind = op[0]
            if kind == 'standardize':
                g = standardize_vjp(g)
            elif kind == 'unshuffle':
                g = unshuffle_vjp(g, op[1])
            elif kind == 'linear':
                w = op[1]
                g = F.conv_transpose2d(g, w[:, :, None, None]) if g.dim() == 4 else g @ w
            elif kind == 'resconv':
                _, k, _, _, pad = op
                g = g - 2.0 * F.conv_transpose2d(F.conv2d(g, k, padding=pad) * keep, k, padding=pad)
            elif kind == 'resdense':
                w = op[1]
                g = g - 2.0 * (F.linear(g, w) * keep) @ w
            elif kind == 'pool':
                g = grid_pool_vjp(g, op[1], keep)
            elif kind == 'thumbnail':
                from_thumbnail = thumbnail_vjp(g[:, keep:] * op[2], x.shape[-1])
                g = g[:, :keep] * op[1]
        return u, g + from_thumbnail


class EmbedOnly(nn.Module):
    def __init__(self, frozen: Frozen):
        super().__init__()
        self.frozen = frozen

    def forward(self, x):
        u, norm, _ = self.frozen.embed(x)
        return u, norm[:, 0]
