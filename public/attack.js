// lipsearch attack pages. Both work without this file; with it:
//  - the form gets ε preset buttons for the chosen norm and shows the target field only for targeted attacks,
//  - a running comparison streams its progress (server-sent events, polling as a fallback), reloads its
//    server-rendered panels when a stage finishes, and cancels in place.
'use strict';

// ---- the form

function enhanceAttackForm(form) {
  const epsilon = form.querySelector('input[name="epsilon"]');
  const presets = form.querySelector('[data-presets]');
  const targetRow = form.querySelector('[data-target-row]');
  const idInput = form.querySelector('input[name="id"]');
  const fileInput = form.querySelector('input[name="image"]');
  const norm = () => (form.querySelector('input[name="norm"]:checked') || {}).value || 'l2';
  const presetsOf = (n) => (presets.dataset[n === 'linf' ? 'presetsLinf' : 'presetsL2'] || '').split(',').filter(Boolean);

  const renderPresets = () => {
    const values = presetsOf(norm());
    presets.replaceChildren(
      ...values.map((value) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'preset';
        button.textContent = value;
        button.setAttribute('aria-pressed', String(epsilon.value.trim() === value));
        button.addEventListener('click', () => {
          epsilon.value = value;
          renderPresets();
        });
        return button;
      }),
    );
  };
  form.querySelectorAll('input[name="norm"]').forEach((radio) =>
    radio.addEventListener('change', () => {
      const values = presetsOf(norm());
      if (!values.includes(epsilon.value.trim())) epsilon.value = values[Math.min(1, values.length - 1)] || epsilon.value;
      renderPresets();
    }),
  );
  epsilon.addEventListener('input', renderPresets);
  renderPresets();

  const showTarget = () => {
    const targeted = form.querySelector('input[name="goal"]:checked')?.value === 'targeted';
    targetRow.hidden = !targeted;
    targetRow.querySelector('input').required = targeted;
  };
  form.querySelectorAll('input[name="goal"]').forEach((radio) => radio.addEventListener('change', showTarget));
  showTarget();

  // A chosen file is the query: the id field would only confuse.
  fileInput.addEventListener('change', () => {
    if (fileInput.files && fileInput.files.length) idInput.value = '';
  });
}

// ---- a comparison

/** Same signature as the server's comparisonStage (src/server/attackPageModels.ts). */
function stageOf(status) {
  return [status.state, ...status.models.map((m) => `${m.state}:${m.before ? 1 : 0}${m.outcome ? 1 : 0}`)].join('|');
}

const STATE_TEXT = { waiting: 'waiting', queued: 'queued', running: 'attacking', done: 'done', failed: 'failed', cancelled: 'cancelled' };

function enhanceJob(root) {
  let stage = root.dataset.stage;
  let reloading = null;
  let latest = null;
  let source = null;

  const showProgress = (status) => {
    const phase = root.querySelector('[data-phase]');
    if (phase) phase.textContent = status.phase;
    for (const model of status.models) {
      const side = root.querySelector(`[data-side="${model.model}"]`);
      if (!side) continue;
      const bar = side.querySelector('[data-progress]');
      const text = side.querySelector('[data-progress-text]');
      if (bar && model.progress) {
        bar.max = model.progress.steps;
        bar.value = model.progress.step;
      }
      if (text) text.textContent = STATE_TEXT[model.state] + (model.progress && model.state !== 'done' ? ` · step ${model.progress.step} of ${model.progress.steps}` : '');
    }
  };

  // The panels are rendered by the server: fetch this page again and swap them in.
  const reload = async () => {
    if (reloading) return reloading;
    reloading = (async () => {
      try {
        const response = await fetch(window.location.href, { headers: { Accept: 'text/html' } });
        const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('[data-attack-job]');
        if (!fresh) return;
        root.replaceChildren(...fresh.childNodes);
        stage = fresh.dataset.stage;
        root.dataset.stage = stage;
        bindCancel();
      } finally {
        reloading = null;
      }
      if (latest) apply(latest);
    })();
    return reloading;
  };

  const apply = (status) => {
    latest = status;
    showProgress(status);
    if (stageOf(status) !== stage && !reloading) reload();
  };

  const poll = async () => {
    while (!latest || !latest.finished) {
      try {
        const response = await fetch(root.dataset.api, { headers: { Accept: 'application/json' } });
        if (response.status === 404) return;
        apply(await response.json());
      } catch {
        // the server may be restarting: try again
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  };

  const bindCancel = () => {
    const form = root.querySelector('[data-cancel-form]');
    if (!form) return;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const button = form.querySelector('button');
      button.disabled = true;
      button.textContent = 'Cancelling…';
      fetch(root.dataset.cancelApi, { method: 'POST', headers: { Accept: 'application/json' } })
        .then((response) => response.json())
        .then((status) => status.id && apply(status))
        .catch(() => {
          button.disabled = false;
          button.textContent = 'Cancel';
        });
    });
  };

  bindCancel();
  if (!root.querySelector('[data-cancel-form]')) return; // finished when rendered: nothing to follow
  if (!('EventSource' in window)) {
    poll();
    return;
  }
  source = new EventSource(root.dataset.events);
  source.addEventListener('status', (event) => {
    const status = JSON.parse(event.data);
    apply(status);
    if (status.finished) source.close();
  });
  source.addEventListener('error', () => {
    if (latest && latest.finished) return;
    source.close();
    poll();
  });
}

document.querySelectorAll('form[data-attack-form]').forEach(enhanceAttackForm);
document.querySelectorAll('[data-attack-job]').forEach(enhanceJob);
