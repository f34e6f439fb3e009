// lipsearch progressive enhancement. Every page works without this file; with it:
//  - drop or paste an image onto the search form (it is submitted at once),
//  - move the ε slider or edit ε and the distance bars, the bounds and the copy check update in place,
//    without reloading the page.
'use strict';

document.documentElement.classList.add('js');

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

/** Swaps in the parts of a freshly rendered results page that depend on ε (marked data-live), in place. */
function swapLive(fresh) {
  fresh.querySelectorAll('[data-live]').forEach((part) => {
    const current = document.querySelector(`[data-live="${part.dataset.live}"]`);
    if (current) current.replaceWith(document.importNode(part, true));
  });
}

// The server renders every sentence (src/server/guaranteeWords.ts): on a new ε the page is fetched again and
// its ε-dependent parts swapped in, so the words are written once.
function enhanceEpsilonForm(form) {
  const input = form.querySelector('input[name="epsilon"]');
  const slider = form.querySelector('[data-epsilon-slider]');
  if (!input) return;
  let timer;
  let controller;
  const note = () => form.querySelector('[data-epsilon-text]');

  const refresh = () => {
    const epsilon = Number(input.value);
    if (input.value === '' || !input.checkValidity() || !Number.isFinite(epsilon)) {
      note().textContent = `ε must be a number from ${input.min} to ${input.max}.`;
      return;
    }
    if (controller) controller.abort();
    controller = new AbortController();
    const page = new URL(window.location.href);
    page.searchParams.set('epsilon', String(epsilon));
    fetch(page, { signal: controller.signal, headers: { Accept: 'text/html' } })
      .then((response) =>
        response.text().then((html) => {
          const fresh = new DOMParser().parseFromString(html, 'text/html');
          if (!response.ok) throw new Error(fresh.querySelector('.error-page .lede')?.textContent?.trim() || 'the update failed');
          return fresh;
        }),
      )
      .then((fresh) => {
        swapLive(fresh);
        history.replaceState(null, '', page);
        keepEpsilon(epsilon);
      })
      .catch((error) => {
        if (error.name !== 'AbortError') note().textContent = `Could not update: ${error.message}`;
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
    if (slider && input.checkValidity() && input.value !== '') slider.value = input.value;
    schedule();
  });
  if (slider) {
    slider.addEventListener('input', () => {
      input.value = slider.value;
      schedule();
    });
  }
}

document.querySelectorAll('form[data-enhance="upload"]').forEach(enhanceUploadForm);
document.querySelectorAll('form[data-epsilon-form]').forEach(enhanceEpsilonForm);
