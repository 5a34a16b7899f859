// The dashboard's only script: it keeps the server-rendered page current by polling the JSON
// endpoints; without it the page still shows everything as it was when served.
(() => {
  'use strict';
  const POLL_MS = 1000;

  const detail = (s) => {
    const text = s.state === 'running' && s.progress !== null ? `running ${s.progress}` : s.state;
    return text.length > 30 ? `${text.slice(0, 29)}…` : text;
  };
  const setState = (el, state) => {
    for (const c of [...el.classList]) if (c.startsWith('state-')) el.classList.remove(c);
    el.classList.add(`state-${state.replace(' ', '-')}`);
  };

  async function refreshStates() {
    const r = await fetch('/api/state', { cache: 'no-store' });
    if (!r.ok) return;
    const snap = await r.json();
    const banner = document.getElementById('run-state');
    if (banner !== null) {
      banner.textContent = snap.running
        ? 'a repro is running: states update live'
        : 'no run in progress: states from the store';
      banner.classList.toggle('live', snap.running);
    }
    for (const s of snap.stages) {
      for (const el of document.querySelectorAll(`[data-stage="${CSS.escape(s.name)}"]`)) {
        if (el.id === 'curves') continue;
        setState(el, s.state);
        const d = el.querySelector('.detail, .state');
        if (d !== null) d.textContent = detail(s);
        const secs = el.querySelector('.seconds');
        if (secs !== null) secs.textContent = s.seconds === null ? '' : `${s.seconds.toFixed(1)}s`;
        const err = el.querySelector('.error');
        if (err !== null) err.textContent = s.error ?? '';
      }
    }
  }

  let view = null;
  async function refreshCurve(section) {
    const stage = section.dataset.stage;
    const r = await fetch(`/api/curve/${encodeURIComponent(stage)}`, { cache: 'no-store' });
    if (!r.ok) return;
    const { points, log } = await r.json();
    if (log !== null) {
      const pre = document.getElementById('log');
      if (pre !== null) pre.textContent = log.join('\n');
    }
    if (points.length === 0 || typeof vega === 'undefined') return;
    section.classList.remove('empty');
    const none = section.querySelector('.none');
    if (none !== null) none.remove();
    section.dataset.points = String(points.length);
    if (view === null) {
      const spec = {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        width: 560,
        height: 240,
        data: { name: 'points' },
        mark: { type: 'line', point: false },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'step' },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: null },
        },
      };
      const compiled = vegaLite.compile(spec).spec;
      view = new vega.View(vega.parse(compiled), { renderer: 'svg', container: '#curve', hover: true });
    }
    await view.data('points', points).runAsync();
  }

  const tick = async () => {
    try {
      await refreshStates();
      const section = document.getElementById('curves');
      if (section !== null) await refreshCurve(section);
    } catch {
      // The server may be restarting; the next tick tries again.
    }
    setTimeout(() => void tick(), POLL_MS);
  };
  void tick();
})();
