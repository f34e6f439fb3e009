"""Trains the LipSim backbone (or its non-robust baseline) from the cache written by prepare-data.ts.

Stage `distill`: squared error between the student's unit embedding and the teacher target, on a random one of
the cached views (clean, flip + colour jitter, random crops) -- LipSim's distillation with augmentation.
Stage `hinge`: LipSim's margin fine-tune on retrieval triplets: query = an augmented view of image i, positive =
the clean view of i, negatives = the clean views of the other images in the batch. The hinge acts on the
certified radius of that 2AFC decision, (d(q,n) - d(q,p)) / ||f(p) - f(n)||, for the hardest negative, so it
widens exactly what the product certifies; the distillation term is kept so the embedding stays on the teacher.
With --neighbour-group g the batch is made of groups of g photos the teacher finds alike (an anchor and g-1 of its
10 nearest), so the negatives and the neighbour-distribution term speak of fine distinctions, not only of
photos that have nothing in common.

Teacher target: teacher embedding, L2-normalised, centred and projected on its first dim-1 principal axes
(fitted on the training split), normalised again, with a trailing 0 coordinate.

Checkpoints every --checkpoint-every steps and resumes from --out/<name>.pt when it exists.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from network import Backbone, add_thumbnail_branch, widen_pool  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--cache', default='cache/train')
    p.add_argument('--out', default='.checkpoints')
    p.add_argument('--name', required=True)
    p.add_argument('--baseline', action='store_true', help='train the unconstrained baseline')
    p.add_argument('--stage', choices=['distill', 'hinge'], default='distill')
    p.add_argument('--init', help='checkpoint to start from (weights only; its architecture is kept)')
    p.add_argument('--thumbnail', action='store_true', help='add the thumbnail (layout) branch (network.py)')
    p.add_argument('--pool-grid', type=int, default=1,
                   help='pool the last map over a g x g split (network.py); from an --init with the global pool, '
                        'the head is widened so that the embedding starts unchanged')
    p.add_argument('--steps', type=int, default=2000)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--margin', type=float, default=0.5, help='hinge target for the certified radius')
    p.add_argument('--distill-weight', type=float, default=1.0)
    p.add_argument('--relational-weight', type=float, default=0.0,
                   help='weight of the in-batch neighbour-distribution term (hinge stage)')
    p.add_argument('--temperature', type=float, default=0.1, help='softmax temperature of that term')
    p.add_argument('--neighbour-group', type=int, default=1,
                   help='hinge stage: batches of groups of this many photos the teacher finds alike (1: uniform)')
    p.add_argument('--pca-sources', default='imagenet,clothing,coco',
                   help='photo sources whose clean training views fit the target PCA; the default is the space the '
                        'shipped LipSim was trained in, so a warm start keeps its coordinates')
    p.add_argument('--widths', default='48,96,192')
    p.add_argument('--depths', default='3,3,3')
    p.add_argument('--dim', type=int, default=256)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--checkpoint-every', type=int, default=100)
    p.add_argument('--validate-every', type=int, default=500)
    p.add_argument('--skip-initial-validation', action='store_true')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--limit-images', type=int, default=0, help='use only the first N images (smoke tests)')
    return p.parse_args()


def load_cache(path, limit):
    meta = json.load(open(os.path.join(path, 'meta.json')))
    n, v, s = len(meta['items']), meta['views'], meta['size']
    pixels = np.memmap(os.path.join(path, 'pixels.u8'), dtype=np.uint8, mode='r', shape=(n, v, 3, s, s))
    teacher = np.fromfile(os.path.join(path, 'teacher.f32'), dtype=np.float32).reshape(n, v, -1)
    if limit:
        meta['items'], pixels, teacher = meta['items'][:limit], pixels[:limit], teacher[:limit]
    return meta, pixels, teacher  # pixels stay memory-mapped: the page cache is shared by concurrent runs


def fit_pca(clean_teacher, dim):
    """Mean and first dim-1 principal axes of L2-normalised teacher embeddings (clean training views)."""
    clean = (clean_teacher / np.linalg.norm(clean_teacher, axis=-1, keepdims=True)).astype(np.float64)
    mean = clean.mean(axis=0)
    _, _, vt = np.linalg.svd(clean - mean, full_matrices=False)
    axes = np.zeros((dim - 1, clean.shape[1]))
    axes[: min(dim - 1, len(vt))] = vt[: dim - 1]  # tiny smoke-test sets have fewer axes than dim
    return mean, axes


def to_targets(teacher, mean, axes):
    """Teacher embeddings -> unit targets in the student's space, with a trailing 0 coordinate."""
    t = teacher / np.linalg.norm(teacher, axis=-1, keepdims=True)
    proj = (t - mean) @ axes.T
    proj /= np.linalg.norm(proj, axis=-1, keepdims=True)
    return np.concatenate([proj, np.zeros(proj.shape[:-1] + (1,))], axis=-1).astype(np.float32)


def fit_targets(teacher, fit_idx, dim, out_dir):
    """Targets of every cached view; the PCA is fitted once per checkpoint folder and kept (targets.npz)."""
    path = os.path.join(out_dir, 'targets.npz')
    if os.path.exists(path):
        z = np.load(path)
        mean, axes = z['mean'], z['axes']
    else:
        mean, axes = fit_pca(teacher[fit_idx, 0], dim)
        np.savez(path, mean=mean, axes=axes)
    return to_targets(teacher, mean, axes)


def teacher_neighbours(clean_targets, train_idx, k=10):
    """(n_photos, k): each training photo's k nearest training photos by its clean view's target (n_photos, dim)."""
    k = min(k, len(train_idx) - 1)  # smoke tests train on a handful of photos
    t = torch.as_tensor(clean_targets)[train_idx]
    out = np.zeros((len(clean_targets), k), dtype=np.int64)
    for i in range(0, len(train_idx), 1024):
        sim = t[i:i + 1024] @ t.t()
        sim[torch.arange(len(sim)), torch.arange(i, i + len(sim))] = -float('inf')
        out[train_idx[i:i + 1024]] = train_idx[sim.topk(k, dim=1).indices.numpy()]
    return out


def neighbour_batch(rng, train_idx, neighbours, size, group):
    """Anchors drawn at random, each with group-1 of its teacher neighbours: the in-batch terms then weigh photos
    the teacher finds alike, the distinctions that the top ranks of a search depend on. Photos are unique."""
    picked, seen = [], set()
    while len(picked) < size:
        anchor = rng.choice(train_idx)
        for m in (anchor, *rng.choice(neighbours[anchor], min(group - 1, neighbours.shape[1]), replace=False)):
            if m not in seen and len(picked) < size:
                seen.add(m)
                picked.append(m)
    return np.array(picked)


def batch_pixels(pixels, idx, views):
    order = np.argsort(idx)  # memory-mapped reads in file order
    out = np.empty((len(idx),) + pixels.shape[2:], dtype=np.float32)
    out[order] = pixels[idx[order], views[order]]
    # Channels-last is the layout oneDNN's convolutions run fastest on here (layers.conv_adjoint).
    return torch.from_numpy(out / 255.0).contiguous(memory_format=torch.channels_last)


def relational(u, t, temperature):
    """KL divergence from the teacher's in-batch neighbour distribution to the student's (self excluded): it
    trains who-is-close-to-whom, which is what retrieval ranks by, rather than each absolute position."""
    self_mask = torch.eye(len(u), dtype=torch.bool, device=u.device)
    s = (u @ u.t() / temperature).masked_fill(self_mask, float('-inf'))
    r = (t @ t.t() / temperature).masked_fill(self_mask, float('-inf'))
    p = torch.softmax(r, dim=1)
    return (p * (torch.log_softmax(r, 1) - torch.log_softmax(s, 1)).masked_fill(self_mask, 0)).sum(1).mean()


def distill_loss(u, t):
    return ((u - t) ** 2).sum(1).mean()


def hinge_stage_loss(both, t, a):
    """both = student embeddings of [augmented queries; their clean views], t = their targets. The hinge acts on
    the certified radius of "query i is closer to clean i than to any other clean view in the batch"; the
    distillation and neighbour-distribution terms keep the embedding on the teacher."""
    n = len(both) // 2
    q, p = both[:n], both[n:]
    distill = distill_loss(both, t)
    d = 1 - q @ p.t()  # d[i, j] = d(query i, clean j)
    gap = d - d.diagonal()[:, None]
    eye = torch.eye(n, dtype=torch.bool, device=both.device)
    sep = torch.cdist(p, p) + eye  # ||f(p_i) - f(p_j)||, diagonal masked below
    radius = (gap / sep).masked_fill(eye, float('inf')).min(1).values
    hinge = torch.relu(a.margin - radius).mean()
    loss = hinge + a.distill_weight * distill
    extra = {'hinge': hinge.item(), 'median_radius': radius.median().item()}
    if a.relational_weight:
        rel = relational(both, t, a.temperature)
        loss = loss + a.relational_weight * rel
        extra['relational'] = rel.item()
    return loss, distill, extra


def precision_at_10(emb, labels):
    sim = (emb @ emb.t()).fill_diagonal_(float('-inf'))
    top = sim.topk(10, dim=1).indices
    return (labels[top] == labels[:, None]).float().mean().item()


def class_labels(meta, idx, source):
    """Class index per photo of `source` among idx, -1 for photos of other sources."""
    items = [meta['items'][i] for i in idx]
    classes = sorted({it['label'] for it in items if it['source'] == source})
    return torch.tensor([classes.index(it['label']) if it['source'] == source else -1 for it in items])


@torch.no_grad()
def validate(model, pixels, targets, idx, labels):
    """Cosine to the teacher target on clean views; copy recall@1: crop views queried among clean views;
    precision@10 by class among the clean views of the clothing and Caltech-101 photos of idx."""
    model.eval()
    emb = []
    for view in (0, 2, 3):
        out = []
        for i in range(0, len(idx), 128):
            chunk = idx[i:i + 128]
            out.append(model(batch_pixels(pixels, chunk, np.full(len(chunk), view))))
        emb.append(torch.cat(out))
    model.train()
    return retrieval_metrics(emb[0], emb[1:], torch.from_numpy(targets[idx, 0]), labels)


def retrieval_metrics(clean, crops, clean_targets, labels):
    """clean: embeddings of clean views; crops: list of embeddings of cropped views of the same photos."""
    cosine = (clean * clean_targets.to(clean.device)).sum(1).mean().item()
    truth = torch.arange(len(clean), device=clean.device)
    hits = sum(((q @ clean.t()).argmax(1) == truth).sum().item() for q in crops)
    out = {'cosine_to_teacher': cosine, 'copy_recall_at_1': hits / (len(crops) * len(clean))}
    for source, lab in labels.items():
        mask = (lab >= 0).to(clean.device)
        out[f'{source}_p10'] = precision_at_10(clean[mask], lab.to(clean.device)[mask]) if mask.sum() > 10 else None
    return out


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    meta, pixels, teacher = load_cache(a.cache, a.limit_images)
    splits = np.array([it['split'] for it in meta['items']])
    train_idx, val_idx = np.where(splits == 'train')[0], np.where(splits == 'val')[0]
    pca_sources = set(a.pca_sources.split(','))
    pca_idx = np.array([i for i in train_idx if meta['items'][i]['source'] in pca_sources])
    targets = fit_targets(teacher, pca_idx, a.dim, a.out)
    val_labels = {s: class_labels(meta, val_idx, s) for s in ('clothing', 'caltech')}
    # The same measures on as many training photos: train far above held-out = overfitting, near equal = underfitting.
    train_probe = np.sort(np.random.default_rng(1).choice(train_idx, size=min(len(train_idx), len(val_idx)), replace=False))
    train_labels = {s: class_labels(meta, train_probe, s) for s in ('clothing', 'caltech')}
    init = torch.load(a.init) if a.init else None
    if init:
        model = Backbone(robust=init['robust'], **init['config'])
        model.load_state_dict(init['model'])
        if a.thumbnail and not model.thumbnail:
            model = add_thumbnail_branch(model)
        if a.pool_grid > 1 and model.config['pool_grid'] == 1:
            model = widen_pool(model, a.pool_grid)
        print(f'initialised from {a.init}', flush=True)
    else:
        widths = tuple(int(w) for w in a.widths.split(','))
        depths = tuple(int(d) for d in a.depths.split(','))
        model = Backbone(robust=not a.baseline, widths=widths, depths=depths, dim=a.dim, thumbnail=a.thumbnail,
                         pool_grid=a.pool_grid)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    ckpt_path = os.path.join(a.out, f'{a.name}.pt')
    step, elapsed, history = 0, 0.0, []
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        step, elapsed, history = ck['step'], ck['elapsed'], ck['history']
        rng = np.random.default_rng(a.seed + step)
        print(f'resumed {ckpt_path} at step {step}', flush=True)

    def save():
        torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': elapsed,
                    'history': history, 'robust': model.robust, 'config': model.config, 'args': vars(a)},
                   ckpt_path + '.tmp')
        os.replace(ckpt_path + '.tmp', ckpt_path)

    if step == 0 and len(val_idx) and not a.skip_initial_validation:
        history.append({'step': 0, **validate(model, pixels, targets, val_idx, val_labels),
                        'train_probe': validate(model, pixels, targets, train_probe, train_labels)})
        print(json.dumps(history[-1]), flush=True)
    grouped = a.stage == 'hinge' and a.neighbour_group > 1
    neighbours = teacher_neighbours(targets[:, 0], train_idx) if grouped else None
    warmup = max(1, min(100, a.steps // 10))
    t0 = time.time() - elapsed
    while step < a.steps:
        lr = a.lr * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / a.steps))
        for g in opt.param_groups:
            g['lr'] = lr
        if grouped:
            idx = neighbour_batch(rng, train_idx, neighbours, a.batch, a.neighbour_group)
        else:
            idx = rng.choice(train_idx, size=a.batch, replace=False)
        if a.stage == 'distill':
            views = rng.integers(0, meta['views'], size=a.batch)
            u = model(batch_pixels(pixels, idx, views))
            loss = distill = distill_loss(u, torch.from_numpy(targets[idx, views]))
            extra = {}
        else:
            views = rng.integers(1, meta['views'], size=a.batch)
            both = model(torch.cat([batch_pixels(pixels, idx, views), batch_pixels(pixels, idx, np.zeros_like(views))]))
            t = torch.from_numpy(np.concatenate([targets[idx, views], targets[idx, 0]]))
            loss, distill, extra = hinge_stage_loss(both, t, a)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        elapsed = time.time() - t0
        validating = len(val_idx) and (step % a.validate_every == 0 or step == a.steps)
        if step % 20 == 0 or validating:
            rec = {'step': step, 'lr': lr, 'loss': loss.item(), 'distill_rmse': distill.sqrt().item(),
                   'elapsed_s': round(elapsed), 'img_per_s': round(step * a.batch / max(elapsed, 1e-9), 1), **extra}
            if validating:
                rec.update(validate(model, pixels, targets, val_idx, val_labels))
                if step == a.steps:
                    rec['train_probe'] = validate(model, pixels, targets, train_probe, train_labels)
            history.append(rec)
            print(json.dumps(rec), flush=True)
        if step % a.checkpoint_every == 0 or step == a.steps:
            save()
    print(f'done {a.name}: {step} steps in {elapsed:.0f} s', flush=True)


if __name__ == '__main__':
    main()
