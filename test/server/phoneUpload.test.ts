import { expect } from 'chai';
import { readFileSync, rmSync } from 'node:fs';
import { PHONE_HEIGHT, PHONE_WIDTH, writePhonePhotos } from '../../src/bench/phonePhotos.js';
import { REDUCED_SIDE } from '../../src/model/preprocess.js';
import type { RunningServer } from '../../src/server/server.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { tempDir } from '../helpers/tempFolders.js';
import { startTestServer } from '../helpers/testIndex.js';

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('uploading a 12-megapixel phone photo (real server, real model)', function () {
  this.timeout(120_000);
  let server: RunningServer;
  let dir: string;
  let photo: string;

  before(async () => {
    dir = tempDir('phone-upload');
    [photo] = await writePhonePhotos(cocoFiles(1), dir);
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers with the photo's own size, and certificate radii in the pixels it was decoded at, saying so", async () => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(readFileSync(photo!))], { type: 'image/jpeg' }), 'phone.jpg');
    const response = await fetch(`${server.url}/api/search?k=5`, { method: 'POST', body: form });
    expect(response.status).to.equal(200);
    const body = (await response.json()) as Json;
    expect(body.query).to.include({ kind: 'upload', width: PHONE_WIDTH, height: PHONE_HEIGHT });
    expect(body.query.decoded.height).to.equal(REDUCED_SIDE);
    const pixels = body.certificate.imagePixels;
    expect(pixels).to.include({ width: body.query.decoded.width, height: REDUCED_SIDE, reducedOnLoad: true });
    // Radius in decoded pixels = model-input radius ÷ the resize norm of the decoded image.
    expect(pixels.radii.top1).to.be.closeTo(body.certificate.radii.top1 / pixels.resizeNorm, 1e-9);

    const page = await (await fetch(`${server.url}/search?upload=${body.query.sha256}`)).text();
    expect(page).to.include(`reduced on load to ${pixels.width}×${pixels.height}`).and.include('its full-size pixels are not covered');
  });
});
