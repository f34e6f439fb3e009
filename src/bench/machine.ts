import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadModelCard } from '../model/card.js';

export interface MachineDescription {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly model: { readonly name: string; readonly file: string; readonly sha256: string };
  /** 1-minute load average when the bench started: above the core count, other work shared the CPUs. */
  readonly loadAverageAtStart: number;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The machine and the exact model file the figures belong to. */
export async function describeMachine(modelsDir: string): Promise<MachineDescription> {
  const card = loadModelCard('lipsim', modelsDir);
  const file = join(modelsDir, card.files.embedding);
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    node: process.version,
    model: { name: card.name, file: card.files.embedding, sha256: await sha256OfFile(file) },
    loadAverageAtStart: loadavg()[0],
  };
}
