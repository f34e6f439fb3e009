// lipsearch progressive enhancement. Every page works without this file; with it:
//  - drop or paste an image onto the search form (it is submitted at once),
//  - move the ε slider or edit ε and the distance bars, the bounds and the copy check update in place
//    from the JSON API, without reloading the page.
'use strict';

document.documentElement.classList.add('js');

/** Same compact number format as the server's formatNumber (src/server/views.ts). */
function num(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 0.01 && abs < 1000) return value.toPrecision(3).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return value.toExponential(2);
}

// ---- upload: drag and drop, paste

let pasteHandled = false;

function enhanceUploadForm(form) {
  const zone = form.querySelector('[data-drop-zone]');
  const input = form.querySelector('input[type="file"]');
  const preview = form.querySelector('[data-drop-preview]');
  if (!zone || !input) return;

  const showPreview = (file) => {
    if (!preview || !file || !file.type.startsWith('image/')) return;
    preview.src = URL.createObjectURL(file);
    preview.alt = 'Preview of the chosen image';
    preview.hidden = false;
  };
  // A dropped or pasted image is an explicit "search with this"; a file picked in the dialog only previews.
  const submitWith = (file) => {
    if (!file) return;
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    showPreview(file);
    form.requestSubmit();
  };

  input.addEventListener('change', () => showPreview(input.files && input.files[0]));
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    submitWith(event.dataTransfer && event.dataTransfer.files[0]);
  });
  if (pasteHandled) return;
  pasteHandled = true;
  document.addEventListener('paste', (event) => {
    const files = event.clipboardData ? Array.from(event.clipboardData.files) : [];
    const image = files.find((f) => f.type.startsWith('image/'));
    if (image) {
      event.preventDefault();
      submitWith(image);
    }
  });
}

// ---- results: live ε

/** Same scale rule as the server's barScale (src/server/pageModels.ts). */
function barScale(uppers) {
  const top = Math.max(1e-6, ...uppers);
  const step = 10 ** Math.floor(Math.log10(top)) / 2;
  return Math.min(2, Math.ceil(top / step) * step);
}

const pct = (value, scale) => Math.min(100, Math.max(0, (100 * value) / scale));

function updateBars(data) {
  const items = Array.from(document.querySelectorAll('[data-result]'));
  const scale = barScale(data.results.map((r) => r.bound.upper));
  const scaleText = document.querySelector('[data-scale]');
  if (scaleText) scaleText.textContent = num(scale);
  data.results.forEach((result, i) => {
    const item = items[i];
    if (!item) return;
    const lower = pct(result.bound.lower, scale);
    const upper = pct(result.bound.upper, scale);
    item.querySelector('[data-bar-band]').setAttribute('x', lower.toFixed(2));
    item.querySelector('[data-bar-band]').setAttribute('width', Math.max(0.6, upper - lower).toFixed(2));
    item.querySelector('[data-bar-point]').setAttribute('x', pct(result.distance, scale).toFixed(2));
    const lowerText = num(result.bound.lower);
    const upperText = num(result.bound.upper);
    item.querySelector('[data-bound-text]').textContent = `within ε: [${lowerText}, ${upperText}]`;
    item
      .querySelector('[data-bar]')
      .setAttribute('aria-label', `distance ${num(result.distance)}; for any perturbation within ε it stays between ${lowerText} and ${upperText}`);
  });
}

/** As many possible copies as the server-rendered page lists (src/server/pageModels.ts). */
const COPIES_SHOWN = 12;

function updateCopyCheck(data) {
  const box = document.querySelector('[data-copy-check]');
  const check = data.certificate && data.certificate.copyCheck;
  if (!box || !check) return;
  const eps = `${num(check.epsilon)} (= ${num(check.epsilon * 255)}/255)`;
  const list = box.querySelector('[data-copy-list]');
  const shown = check.possibleCopies.slice(0, COPIES_SHOWN);
  const more = check.possibleCopies.length - shown.length;
  list.replaceChildren(
    ...shown.map((copy) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = copy.urls.page;
      a.textContent = `image #${copy.id}`;
      li.append(a, ` (d = ${num(copy.distance)})`);
      return li;
    }),
  );
  if (more > 0) {
    const li = document.createElement('li');
    li.textContent = `and ${more} more`;
    list.append(li);
  }
  let text;
  let tone;
  if (check.possibleCopies.length > 0) {
    tone = 'warn';
    text =
      `Possible near-copy: the query could be ${check.possibleCopies.length === 1 ? 'this corpus image' : 'any of these corpus images'} changed by at most ε = ${eps}` +
      (check.listComplete ? '.' : ' (and possibly others beyond the scored list).');
  } else if (check.provenNoCopy) {
    tone = 'ok';
    const beyond = check.epsilonProvenNoCopy === null ? '' : ` (this holds for every ε below ${num(check.epsilonProvenNoCopy)})`;
    text = `Proven: the query is not an ε-perturbation of any corpus image for ε = ${eps}${beyond}.`;
  } else {
    tone = 'warn';
    text = 'No near-copy among the compared candidates, but this is not a proof (index scope).';
  }
  box.classList.remove('ok', 'warn');
  box.classList.add(tone);
  box.querySelector('[data-copy-text]').textContent = text;
  document.querySelectorAll('[data-result]').forEach((item, i) => {
    const id = data.results[i] && data.results[i].id;
    item.classList.toggle('copy', check.possibleCopies.some((c) => c.id === id));
  });
}

/** The new ε also applies to the page links (paging) and to the next upload. */
function keepEpsilon(epsilon) {
  document.querySelectorAll('.pager a[href*="epsilon="]').forEach((link) => {
    const url = new URL(link.href);
    url.searchParams.set('epsilon', String(epsilon));
    link.href = url.pathname + url.search;
  });
  const next = document.getElementById('upload-epsilon');
  if (next) next.value = String(epsilon);
}

function enhanceEpsilonForm(form) {
  const input = form.querySelector('input[name="epsilon"]');
  const slider = form.querySelector('[data-epsilon-slider]');
  const note = form.querySelector('[data-epsilon-text]');
  const api = form.dataset.api;
  if (!input || !api) return;
  let timer;
  let controller;

  const refresh = () => {
    const epsilon = Number(input.value);
    if (!input.checkValidity() || !Number.isFinite(epsilon)) {
      if (note) note.textContent = `ε must be a number from 0 to ${input.max}.`;
      return;
    }
    if (controller) controller.abort();
    controller = new AbortController();
    const url = `${api}&epsilon=${encodeURIComponent(String(epsilon))}`;
    fetch(url, { signal: controller.signal, headers: { Accept: 'application/json' } })
      .then((response) => response.json().then((body) => ({ ok: response.ok, body })))
      .then(({ ok, body }) => {
        if (!ok) throw new Error(body.error ? body.error.message : 'the update failed');
        updateBars(body);
        updateCopyCheck(body);
        if (note) note.textContent = `ε = ${num(epsilon)} (= ${num(epsilon * 255)}/255)`;
        const page = new URL(window.location.href);
        page.searchParams.set('epsilon', String(epsilon));
        history.replaceState(null, '', page);
        keepEpsilon(epsilon);
      })
      .catch((error) => {
        if (error.name !== 'AbortError' && note) note.textContent = `Could not update: ${error.message}`;
      });
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 120);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    refresh();
  });
  input.addEventListener('input', () => {
    if (slider) slider.value = String(Math.min(255, Math.round(Number(input.value) * 255)));
    schedule();
  });
  if (slider) {
    slider.addEventListener('input', () => {
      input.value = String(Number((Number(slider.value) / 255).toFixed(6)));
      schedule();
    });
  }
}

document.querySelectorAll('form[data-enhance="upload"]').forEach(enhanceUploadForm);
document.querySelectorAll('form[data-epsilon-form]').forEach(enhanceEpsilonForm);
