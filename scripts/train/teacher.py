"""The MobileNet teacher (../shared/teacher/*.onnx) as a PyTorch module, so that training can run it on the same
freshly augmented views as the student, on the CPU or a GPU (onnxruntime for Python is not installable here).

The ONNX graph uses a handful of operators (Conv, Clip, Pad, Add, Sub, Mul, ReduceMean, Flatten, Constant);
this interprets them node by node with torch functions. test/train/teacher.test.ts checks it against
onnxruntime-node on real photos.

    python3 teacher.py <teacher.onnx> <inputs.f32 [N,3,224,224]>   # prints the embeddings as JSON
"""
import json
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class OnnxTeacher(nn.Module):
    def __init__(self, path: str):
        super().__init__()
        graph = onnx.load(path).graph
        self.names = {}
        for i, init in enumerate(graph.initializer):
            self.register_buffer(f'c{i}', torch.from_numpy(numpy_helper.to_array(init).copy()))
            self.names[init.name] = f'c{i}'
        self.nodes = []
        for node in graph.node:
            attrs = _attrs(node)
            if node.op_type == 'Constant':
                value = torch.from_numpy(numpy_helper.to_array(attrs['value']).copy())
                key = f'c{len(self.names)}'
                self.register_buffer(key, value)
                self.names[node.output[0]] = key
                continue
            self.nodes.append((node.op_type, list(node.input), node.output[0], attrs))
        self.outputs = [o.name for o in graph.output]

    def _value(self, env, name):
        return env[name] if name in env else getattr(self, self.names[name])

    def forward(self, pixels):
        env = {'pixels': pixels}
        for op, inputs, output, attrs in self.nodes:
            args = [self._value(env, n) if n else None for n in inputs]
            if op == 'Conv':
                x, w, b = args[0], args[1], args[2] if len(args) > 2 else None
                p = attrs.get('pads', [0, 0, 0, 0])
                if any(p):
                    x = F.pad(x, (p[1], p[3], p[0], p[2]))
                y = F.conv2d(x, w, b, stride=attrs.get('strides', [1, 1]), groups=attrs.get('group', 1))
            elif op == 'Clip':
                y = torch.clamp(args[0], float(args[1]), float(args[2]))
            elif op == 'Pad':
                p = [int(v) for v in args[1].tolist()]
                half = len(p) // 2  # ONNX: all begins, then all ends; torch: last axis first, (begin, end)
                y = F.pad(args[0], [v for axis in reversed(range(half)) for v in (p[axis], p[axis + half])])
            elif op == 'Add':
                y = args[0] + args[1]
            elif op == 'Sub':
                y = args[0] - args[1]
            elif op == 'Mul':
                y = args[0] * args[1]
            elif op == 'ReduceMean':
                y = args[0].mean(dim=attrs['axes'], keepdim=bool(attrs.get('keepdims', 1)))
            elif op == 'Flatten':
                y = torch.flatten(args[0], attrs.get('axis', 1))
            else:
                raise NotImplementedError(f'teacher graph uses {op}')
            env[output] = y
        return {name: env[name] for name in self.outputs}


def embed(teacher: OnnxTeacher, pixels: torch.Tensor) -> torch.Tensor:
    """The teacher's raw embedding (1280-d for MobileNet v2)."""
    return teacher(pixels)['embedding']


if __name__ == '__main__':
    model = OnnxTeacher(sys.argv[1]).eval()
    pixels = torch.from_numpy(np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, 3, 224, 224))
    with torch.no_grad():
        print(json.dumps(embed(model, pixels).tolist()))
