// Worker threads do not inherit tsx's loader hooks (Node 20 keeps them per thread): register tsx in this
// thread, then load the TypeScript worker entry named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
