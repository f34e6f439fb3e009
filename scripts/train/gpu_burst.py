"""A short LipSim training burst on one GPU with consistent teaching (Beyer et al. 2022): every step the teacher
and the student see the same freshly augmented views, instead of the few cached views the CPU recipe affords.

Reads the pack written by pack-photos.ts (JPEGs + index + teacher.onnx; nothing else has to travel), runs the
teacher in PyTorch (teacher.py), fits the target PCA on the clean training views, trains the hinge-stage loss of
train.py (hinge on the certified radius + distillation + neighbour distribution, on batches of teacher-alike
groups) for --minutes or --steps, validates on the packed held-out photos, and writes a checkpoint in train.py's
format (export.py turns it into the ONNX files, card and golden vectors).

    python3 scripts/train/gpu_burst.py --pack cache/gpu-pack --init .checkpoints/lipsim.pt --out .checkpoints-gpu --device cuda
"""
import argparse
import io
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from network import SIZE, Backbone  # noqa: E402
from teacher import OnnxTeacher  # noqa: E402
from train import fit_pca, hinge_stage_loss, neighbour_batch, retrieval_metrics, teacher_neighbours, to_targets  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--pack', default='cache/gpu-pack')
    p.add_argument('--out', default='.checkpoints-gpu')
    p.add_argument('--name', default='lipsim-gpu')
    p.add_argument('--init', help='checkpoint to start from; without it a new LipSim with the thumbnail branch')
    p.add_argument('--device', default='cuda')
    p.add_argument('--minutes', type=float, default=6.0, help='training time budget (validation excluded)')
    p.add_argument('--steps', type=int, default=0, help='fixed step count instead of --minutes (smoke tests)')
    p.add_argument('--batch', type=int, default=256)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--margin', type=float, default=0.5)
    p.add_argument('--distill-weight', type=float, default=1.0)
    p.add_argument('--relational-weight', type=float, default=1.0)
    p.add_argument('--temperature', type=float, default=0.1)
    p.add_argument('--neighbour-group', type=int, default=8, help="as train.py's: batches of teacher-alike groups")
    p.add_argument('--dim', type=int, default=256)
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args()


def load_pack(path):
    """Decoded packed photos as one uint8 tensor [N, 3, side, side], and their index entries."""
    from PIL import Image
    meta = json.load(open(os.path.join(path, 'index.json')))
    blob = open(os.path.join(path, 'photos.bin'), 'rb').read()
    images = []
    for p in meta['photos']:
        img = Image.open(io.BytesIO(blob[p['offset']:p['offset'] + p['length']])).convert('RGB')
        images.append(torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1))
    return torch.stack(images), meta['photos']


def to_input(u8):
    return F.interpolate(u8.float() / 255.0, size=(SIZE, SIZE), mode='bilinear', align_corners=False).clamp(0, 1)


def augment(u8, gen):
    """Random-resized crop (30-100 % of the area, aspect 3/4-4/3), horizontal flip, brightness / contrast /
    saturation in [0.6, 1.4]: the augmentations of prepare-data.ts, on the GPU."""
    n, dev = len(u8), u8.device
    r = lambda: torch.rand(n, generator=gen, device=dev)  # noqa: E731
    area, aspect = 0.3 + 0.7 * r(), torch.exp(math.log(3 / 4) + r() * math.log(16 / 9))
    w, h = (area * aspect).sqrt().clamp(max=1), (area / aspect).sqrt().clamp(max=1)
    cx, cy = (r() * 2 - 1) * (1 - w), (r() * 2 - 1) * (1 - h)
    flip = torch.where(r() < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = w * flip, cx, h, cy
    grid = F.affine_grid(theta, (n, 3, SIZE, SIZE), align_corners=False)
    x = F.grid_sample(u8.float() / 255.0, grid, mode='bilinear', padding_mode='border', align_corners=False)
    b, c, s = (0.6 + 0.8 * r()[:, None, None, None] for _ in range(3))
    x = x * b
    grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]
    mean = grey.mean(dim=(2, 3), keepdim=True)
    return (mean + (grey + (x - grey) * s - mean) * c).clamp(0, 1)


@torch.no_grad()
def teacher_embed(teacher, x, chunk=256):
    return torch.cat([teacher(x[i:i + chunk])['embedding'] for i in range(0, len(x), chunk)])


def main():
    a = parse_args()
    dev = torch.device(a.device)
    torch.manual_seed(a.seed)
    gen = torch.Generator(device=dev).manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    started = time.time()
    photos_u8, index = load_pack(a.pack)
    photos_u8 = photos_u8.to(dev)
    split = np.array([p['split'] for p in index])
    train_idx = torch.from_numpy(np.where(split == 'train')[0]).to(dev)
    val_idx = torch.from_numpy(np.where(split == 'val')[0]).to(dev)
    teacher = OnnxTeacher(os.path.join(a.pack, 'teacher.onnx')).to(dev).eval()

    # Targets of the clean views. A warm start keeps its target space: the pack then carries the PCA of its
    # checkpoint folder (targets.npz); otherwise it is fitted on the packed training photos.
    clean_teacher = torch.cat([teacher_embed(teacher, to_input(photos_u8[i:i + 256])) for i in range(0, len(index), 256)])
    pca_file = os.path.join(a.pack, 'targets.npz')
    if os.path.exists(pca_file):
        z = np.load(pca_file)
        mean, axes = z['mean'], z['axes']
    else:
        mean, axes = fit_pca(clean_teacher[train_idx].cpu().numpy(), a.dim)
    project = lambda t: torch.from_numpy(to_targets(t.cpu().numpy(), mean, axes)).to(dev)  # noqa: E731
    clean_targets = project(clean_teacher)
    train_np = train_idx.cpu().numpy()
    neighbours = teacher_neighbours(clean_targets.cpu(), train_np)
    rng = np.random.default_rng(a.seed)

    if a.init:
        ck = torch.load(a.init, map_location='cpu')
        model = Backbone(robust=True, **ck['config'])
        model.load_state_dict(ck['model'])
    else:
        model = Backbone(robust=True, dim=a.dim, thumbnail=True)
    model.to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)

    # Fixed held-out views for validation: clean, and two seeded crops per photo.
    val_gen = torch.Generator(device=dev).manual_seed(1234)
    val_crops = [augment(photos_u8[val_idx], val_gen) for _ in range(2)]
    labels = {}
    for source in ('clothing', 'caltech'):
        names = sorted({index[i]['label'] for i in val_idx.tolist() if index[i]['source'] == source})
        labels[source] = torch.tensor([names.index(index[i]['label']) if index[i]['source'] == source else -1
                                       for i in val_idx.tolist()])

    @torch.no_grad()
    def validate():
        model.eval()
        clean = torch.cat([model(to_input(photos_u8[val_idx[i:i + 256]])) for i in range(0, len(val_idx), 256)])
        crops = [torch.cat([model(c[i:i + 256]) for i in range(0, len(c), 256)]) for c in val_crops]
        model.train()
        return retrieval_metrics(clean, crops, clean_targets[val_idx], labels)

    history = [{'step': 0, **validate()}]
    print(json.dumps(history[-1]), flush=True)
    budget = a.minutes * 60
    step, train_seconds = 0, 0.0
    while (step < a.steps) if a.steps else (train_seconds < budget):
        t0 = time.time()
        progress = step / a.steps if a.steps else train_seconds / budget
        lr = a.lr * min(1.0, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        for g in opt.param_groups:
            g['lr'] = lr
        # Unique photos: two copies of one photo in a batch would make the hinge's separation zero.
        idx = torch.from_numpy(neighbour_batch(rng, train_np, neighbours, a.batch, a.neighbour_group)).to(dev)
        queries = augment(photos_u8[idx], gen)
        with torch.no_grad():
            t = torch.cat([project(teacher_embed(teacher, queries)), clean_targets[idx]])
        both = model(torch.cat([queries, to_input(photos_u8[idx])]))
        loss, distill, extra = hinge_stage_loss(both, t, a)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        train_seconds += time.time() - t0
        if step % 50 == 0:
            history.append({'step': step, 'lr': lr, 'loss': loss.item(), 'distill_rmse': distill.sqrt().item(),
                            'train_s': round(train_seconds), **extra})
            print(json.dumps(history[-1]), flush=True)
    history.append({'step': step, 'train_s': round(train_seconds), **validate()})
    print(json.dumps(history[-1]), flush=True)
    model.cpu()
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': train_seconds,
                'history': history, 'robust': True, 'config': model.config,
                'args': {**vars(a), 'stage': 'hinge', 'steps': step}}, os.path.join(a.out, f'{a.name}.pt'))
    print(f'done {a.name}: {step} steps, {train_seconds:.0f} s training, {time.time() - started:.0f} s in all', flush=True)


if __name__ == '__main__':
    main()
