"""Exports the trained checkpoints to ONNX, proves the Lipschitz bound of the exported weights, checks the
hand-written gradient graph against torch autograd, writes golden vectors for the TypeScript parity test, and
starts each model card (evaluate-models.ts adds the retrieval figures measured with onnxruntime-node).

Outputs per model (lipsim, baseline): <name>.onnx (pixels -> embedding), <name>.grad.onnx
(pixels, direction -> embedding, gradient of <embedding, direction> w.r.t. pixels), <name>.json (card),
and golden.json (shared).
"""
import argparse
import copy
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from layers import conv_gram_bound  # noqa: E402
from network import SIZE, Backbone, EmbedOnly, Frozen  # noqa: E402

GOLDEN_STRIDE = 97  # gradient entries kept in golden.json: every 97th


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def load(path):
    ck = torch.load(path)
    model = Backbone(robust=ck['robust'], **ck['config'])
    model.load_state_dict(ck['model'])
    model.eval()
    return model, ck


def prove_lipschitz(model, frozen):
    """Checks, in float64 on the exported constants, every per-layer condition the 1-Lipschitz proof uses."""
    checks = {'linear_max_sigma': 0.0, 'dense_min_margin': float('inf'), 'conv_min_margin': float('inf')}
    if model.thumbnail:
        checks['thumbnail_branch_gain'] = 0.0  # sqrt(cos^2 + sin^2) of the two branch weights
    # conv_min_margin is relative: min over channels of (T_i - bound_i) / bound_i
    layers = [layer for stage in model.stages for layer in stage] + list(model.dense)
    convs = iter(layer for layer in layers if hasattr(layer, 'kernel'))
    for op in frozen.ops:
        if op[0] == 'pool':
            checks['pool_sigma'] = float(np.linalg.norm(op[1].double().numpy(), ord=2))
        elif op[0] == 'linear':
            sigma = np.linalg.norm(op[1].double().numpy(), ord=2)
            checks['linear_max_sigma'] = max(checks['linear_max_sigma'], float(sigma))
        elif op[0] == 'thumbnail':
            checks['thumbnail_branch_gain'] = float(np.hypot(op[1].double().item(), op[2].double().item()))
        elif op[0] == 'resdense':
            w, t = op[1].double().numpy(), 1.0 / op[3].double().numpy()
            margin = np.linalg.eigvalsh(np.diag(t) - w @ w.T).min()  # T - W^T W must be PSD
            checks['dense_min_margin'] = min(checks['dense_min_margin'], float(margin))
        elif op[0] == 'resconv':
            layer = next(convs)
            k, t = op[1].double().numpy(), 1.0 / op[3].double().numpy()
            q = np.exp(layer.log_q.detach().double().numpy())
            bound = conv_gram_bound(torch.from_numpy(k)).numpy() @ q / q  # q-weighted Gershgorin bound, float64
            checks['conv_min_margin'] = min(checks['conv_min_margin'], float(((t - bound) / bound).min()))
    ok = (checks['linear_max_sigma'] <= 1 + 1e-6 and checks['pool_sigma'] <= 1 + 1e-6
          and checks['dense_min_margin'] >= -1e-9 and checks['conv_min_margin'] >= -1e-9
          and checks.get('thumbnail_branch_gain', 0) <= 1)  # exact: cos and sin are stored rounded toward zero
    return ok, checks


def float32_gradient_error(model, inputs, direction, grad):
    """Relative error of the float32 gradient `grad` against autograd through the same network in float64, per
    input."""
    model64 = copy.deepcopy(model).double()
    xs = inputs.double().requires_grad_(True)
    (model64(xs) * direction.double()).sum().backward()
    exact = xs.grad.reshape(len(xs), -1)
    return (grad.reshape(len(grad), -1).double() - exact).norm(dim=1) / exact.norm(dim=1)


def export_embedding(frozen, path):
    """pixels -> (embedding, norm); 'norm' is ||y|| before the sphere projection (>= 1 by construction for
    LipSim): exported so tests can see it."""
    x = torch.rand(2, 3, SIZE, SIZE)
    torch.onnx.export(EmbedOnly(frozen), (x,), path, input_names=['pixels'], output_names=['embedding', 'norm'],
                      dynamic_axes={'pixels': {0: 'batch'}, 'embedding': {0: 'batch'}, 'norm': {0: 'batch'}},
                      opset_version=17)


def export(model, name, out_dir, ck, golden_inputs, golden_direction):
    frozen = Frozen(model)
    x = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        diff = (frozen.embed(x)[0] - model(x)).abs().max().item()
    assert diff < 1e-5, f'frozen {name} differs from the trained model by {diff}'
    emb_path = os.path.join(out_dir, f'{name}.onnx')
    grad_path = os.path.join(out_dir, f'{name}.grad.onnx')
    export_embedding(frozen, emb_path)
    dim = model.config['dim']
    direction = torch.randn(2, dim)
    torch.onnx.export(frozen, (x, direction), grad_path, input_names=['pixels', 'direction'],
                      output_names=['embedding', 'gradient'],
                      dynamic_axes={'pixels': {0: 'batch'}, 'direction': {0: 'batch'},
                                    'embedding': {0: 'batch'}, 'gradient': {0: 'batch'}}, opset_version=17)

    # The hand-written VJP against autograd, on real photos, by relative L2 error per photo: against autograd in
    # float32 or in float64, whichever is closer. The training layers compute the same maps with other float32
    # operations (layers.conv_adjoint), so on a photo with a pre-activation within rounding of 0 either reference
    # can take the other side of that ReLU kink; a wrong VJP disagrees with both.
    xs = golden_inputs.clone().requires_grad_(True)
    (model(xs) * golden_direction).sum().backward()
    with torch.no_grad():
        _, grad = frozen(golden_inputs, golden_direction)
    flat, ref = grad.reshape(len(grad), -1), xs.grad.reshape(len(grad), -1)
    frozen_error = float32_gradient_error(model, golden_inputs, golden_direction, grad)
    rel = torch.minimum((flat - ref).norm(dim=1) / ref.norm(dim=1), frozen_error.float()).max().item()
    assert rel < 1e-4, f'{name} gradient graph differs from autograd: relative error {rel}'

    with torch.no_grad():
        emb = model(golden_inputs)
    golden = {
        'embedding': emb.numpy().round(7).tolist(),
        'gradientStride': GOLDEN_STRIDE,
        'gradientSamples': grad.reshape(len(grad), -1)[:, ::GOLDEN_STRIDE].numpy().tolist(),
        'gradientNorms': grad.reshape(len(grad), -1).norm(dim=1).numpy().tolist(),
    }
    lipschitz = None
    if model.robust:
        ok, checks = prove_lipschitz(model, frozen)
        assert ok, f'{name}: Lipschitz conditions fail on the exported weights: {checks}'
        lipschitz = checks
    params = sum(p.numel() for p in model.parameters())
    return {'files': {'embedding': os.path.basename(emb_path), 'gradient': os.path.basename(grad_path)},
            'sha256': sha256(emb_path), 'gradientSha256': sha256(grad_path), 'parameters': params,
            'gradientRelativeError': rel, 'lipschitzChecks': lipschitz, 'golden': golden}


ROBUST_PROOF = [
    'pixel-unshuffle: a permutation of coordinates, an isometry (norm 1).',
    'SpectralLinear (per-pixel 1x1 projection after unshuffle, and dense heads): weight divided by '
    'max(1, exact largest singular value); exported sigma_max is checked in float64 (linear_max_sigma <= 1).',
    'SLL conv / dense: x - 2 W T^-1 relu(W^T x + b) is 1-Lipschitz when T >= W^T W (Araujo et al. 2023, Thm 3). '
    'Dense: T - W^T W is checked PSD in float64 (dense_min_margin >= 0). Conv: T_i >= sum_j G_ij q_j/q_i with '
    'G_ij = sum over shifts s of |sum_c,p K_icp K_jc(p+s)| (the Gram kernel of the convolution); zero padding is '
    'an embedding into a larger torus followed by a restriction, so W^T W is dominated by the torus Gram '
    'operator, every row of which that bound dominates (conv_min_margin >= 0, float64).',
    'pool over a g x g split of the 7x7 map into disjoint regions, each region summed and divided by the square '
    'root of its area: operator norm at most 1 (Cauchy-Schwarz on each region; entries rounded toward zero; '
    'g = 1 is the sum-pool / 7); checked in float64 (pool_sigma <= 1).',
    'thumbnail branch (when present): the 16x16 thumbnail is a sum over disjoint 14x14 blocks divided by 14 = '
    'sqrt(196), operator norm exactly 1; the pair x -> [cos(a) P(x), sin(a) Q(x)] of two 1-Lipschitz maps P (the '
    'pooled trunk) and Q (the thumbnail) satisfies ||.||^2 <= (cos^2 + sin^2) ||dx||^2 = ||dx||^2 '
    '(cos and sin are stored rounded toward zero, so thumbnail_branch_gain = sqrt(cos^2 + sin^2) <= 1 holds for the '
    'stored constants; checked in float64).',
    'projection u = [z, 1]/||[z, 1]||: z -> [z, 1] is an isometry onto vectors of norm >= 1, where y -> y/||y|| '
    'equals the metric projection onto the closed unit ball, which is 1-Lipschitz (the ball is convex).',
    'A composition of 1-Lipschitz maps is 1-Lipschitz: ||f(x) - f(y)||_2 <= ||x - y||_2 on [0,1]^(3x224x224).',
]


def card(name, model, ck, info, extra_stages):
    stages = [s if s.get('carried_from_previous_card') else
              {'name': s['name'], 'steps': s['step'], 'seconds': round(s['elapsed']),
               'args': {k: s['args'].get(k, 0.0) for k in ('stage', 'batch', 'lr', 'margin', 'distill_weight',
                                                            'relational_weight', 'temperature', 'steps', 'init',
                                                            'thumbnail', 'pool_grid', 'neighbour_group')},
               'initial': s['history'][0] if s['history'] and s['history'][0]['step'] == 0 else None,
               'final': s['history'][-1] if s['history'] else None} for s in extra_stages]
    return {
        'name': name,
        'version': info['sha256'],
        'files': info['files'],
        'sha256': {info['files']['embedding']: info['sha256'], info['files']['gradient']: info['gradientSha256']},
        'robust': model.robust,
        'architecture': {
            'family': 'LipSim SLL backbone' if model.robust else 'unconstrained residual CNN (SLL shape, free weights)',
            **model.config,
            # warm_start.py rebuilds a trainable network from the ONNX file and this card; the exporter folds
            # cos and sin of the angle into other constants, so the angle itself is kept here.
            **({'thumbnail_angle': model.layout_angle.item()} if model.config.get('thumbnail') else {}),
            'layout': ['unshuffle 8 -> 192x28x28', f"1x1 proj -> {model.config['widths'][0]}",
                       f"{model.config['depths'][0]} x residual 3x3 conv @28", 'unshuffle 2 + 1x1 proj',
                       f"{model.config['depths'][1]} x residual 3x3 conv @14", 'unshuffle 2 + 1x1 proj',
                       f"{model.config['depths'][2]} x residual 3x3 conv @7",
                       'sum-pool / 7' if model.config.get('pool_grid', 1) == 1 else
                       f"pool over a {model.config['pool_grid']}x{model.config['pool_grid']} split of the map "
                       '(region sums / sqrt(area))',
                       *(['beside it, the 16x16 thumbnail of the input (14x14 block sums / 14); weights cos a, sin a']
                         if model.config.get('thumbnail') else []),
                       f"linear -> {model.config['hidden']}", f"{model.config['dense_depth']} x residual dense",
                       'linear -> embedding', 'sphere projection' + (' with constant coordinate' if model.robust else '')],
        },
        'parameters': info['parameters'],
        'embeddingDim': model.config['dim'],
        'input': {'name': 'pixels', 'shape': [None, 3, SIZE, SIZE], 'range': [0, 1], 'layout': 'NCHW RGB',
                  'normalisation': ('none (raw [0,1]; std division would multiply the Lipschitz constant)' if model.robust
                                    else 'ImageNet mean/std standardisation inside the graph, as conventional nets do'),
                  'preprocessing': 'src/model/preprocess.ts: EXIF orientation, sRGB, alpha on white, centre square '
                                   'crop, float antialiased triangle-filter resize to 224x224 (a linear map R whose '
                                   'norm is reported per image).'},
        'output': {'name': 'embedding', 'norm': 1, 'distance': 'd(x, y) = 1 - <f(x), f(y)>'},
        'gradientGraph': {'inputs': ['pixels', 'direction'], 'outputs': ['embedding', 'gradient'],
                          'gradient': 'd<embedding, direction>/d pixels (hand-written VJP, no training runtime)',
                          'maxRelativeErrorVsAutograd': info['gradientRelativeError']},
        'lipschitz': ({'constant': 1, 'norm': 'l2 -> l2', 'space': 'model input [0,1]^(3x224x224)',
                       'proof': ROBUST_PROOF, 'checks': info['lipschitzChecks']} if model.robust else
                      {'constant': None, 'note': 'no bound: unconstrained weights'}),
        'training': {
            'teacher': 'MobileNet v2 1.0/224 (../shared/teacher/mobilenet_v2.onnx), 1280-d embedding, L2-normalised, '
                       'centred, projected on its first dim-1 principal axes (training split), normalised',
            'data': 'ImageNet sample (1000), clothing (3068), Caltech-101 (3929), VOC 2007 (1165), COCO set (234); '
                    '15 % held out by file-name hash. Stages 1-4 of the shipped LipSim saw the ImageNet, clothing '
                    'and COCO photos only (4 views each); stage 5 all 9396',
            'augmentation': '6 cached views per image: clean, flip + colour jitter, 4 x random-resized crop '
                            '(30-100 % area) + flip + colour jitter; teacher embedding of each view (stages 1-4 of '
                            'the shipped LipSim: 4 views, 2 crops)',
            'stages': stages,
            'seconds': sum(s['seconds'] for s in stages),
            'hardware': '2-core CPU, PyTorch ' + torch.__version__,
        },
    }


def stage_records(checkpoints, stages, previous_card):
    """One record per training stage, from its checkpoint; a stage whose checkpoint is gone (checkpoints are not
    kept in git) keeps the record of the same stage in the previous model card."""
    previous = previous_card['training']['stages'] if previous_card else []
    records = []
    for i, stage in enumerate(stages):
        path = os.path.join(checkpoints, f'{stage}.pt')
        if os.path.exists(path):
            records.append(dict(torch.load(path), name=stage))
        elif i < len(previous):
            records.append({**previous[i], 'carried_from_previous_card': True})
        else:
            raise FileNotFoundError(f'{path}: no checkpoint and no record in the previous card')
    return records


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--checkpoints', default='.checkpoints')
    p.add_argument('--golden', default='cache/train/golden')
    p.add_argument('--models', default='models')
    p.add_argument('--lipsim-stages', required=True,
                   help='checkpoint names of the LipSim stages in order, the last one exported '
                        '(train-all.sh STAGES)')
    a = p.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.models, exist_ok=True)
    files = json.load(open(os.path.join(a.golden, 'files.json')))
    inputs = torch.from_numpy(np.fromfile(os.path.join(a.golden, 'inputs.f32'), dtype=np.float32)
                              .reshape(len(files), 3, SIZE, SIZE))
    golden_path = os.path.join(a.models, 'golden.json')
    previous_golden = json.load(open(golden_path)) if os.path.exists(golden_path) else {'files': None, 'models': {}}
    golden = {'files': files, 'models': {}}
    runs = {'lipsim': a.lipsim_stages.split(','), 'baseline': ['baseline']}
    for name, stages in runs.items():
        card_path = os.path.join(a.models, f'{name}.json')
        previous_card = json.load(open(card_path)) if os.path.exists(card_path) else None
        final = os.path.join(a.checkpoints, f'{stages[-1]}.pt')
        if not os.path.exists(final) and previous_card and previous_golden['files'] == files:
            golden['models'][name] = previous_golden['models'][name]
            print(f'{name}: no checkpoint {final}; the model in {a.models} is kept', flush=True)
            continue
        model, ck = load(final)
        gen = torch.Generator().manual_seed(7)
        direction = torch.nn.functional.normalize(torch.randn(len(files), model.config['dim'], generator=gen), dim=1)
        info = export(model, name, a.models, ck, inputs, direction)
        golden['models'][name] = {'version': info['sha256'], 'direction': direction.numpy().tolist(), **info.pop('golden')}
        model_card = card(name, model, ck, info, stage_records(a.checkpoints, stages, previous_card))
        with open(card_path, 'w') as f:
            json.dump(model_card, f, indent=2)
        print(f"{name}: {info['parameters']} parameters, gradient rel. error {info['gradientRelativeError']:.2e}, "
              f"checks {info['lipschitzChecks']}", flush=True)
    with open(golden_path, 'w') as f:
        json.dump(golden, f)


if __name__ == '__main__':
    main()
