// Renders /api/openapi.json. Everything is served by OpsConductor itself.
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}
function resolve(doc, s) {
  if (s && s.$ref) return { name: s.$ref.split('/').pop(), schema: doc.components.schemas[s.$ref.split('/').pop()] };
  return { name: '', schema: s };
}
fetch('/api/openapi.json').then(r => r.json()).then(doc => {
  const main = document.getElementById('main');
  main.textContent = '';
  main.append(el('p', {}, doc.info.description));
  const byTag = {};
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops))
      (byTag[op.tags[0]] ||= []).push([method.toUpperCase(), path, op]);
  for (const [tag, ops] of Object.entries(byTag)) {
    main.append(el('h2', {}, tag));
    for (const [method, path, op] of ops) {
      const d = el('details', {},
        el('summary', {}, el('span', { class: 'm ' + method }, method), el('span', { class: 'p' }, path),
           el('span', {}, op.summary), el('span', { class: 'a' }, op['x-opsc-access'])));
      if (op['x-opsc-job-access'])
        d.append(el('div', { class: 's' }, 'On the job: ' + op['x-opsc-job-access'] + ' (its owner, a grant, or an admin)'));
      const body = op.requestBody && op.requestBody.content['application/json'].schema;
      if (body) {
        const r = resolve(doc, body);
        d.append(el('div', { class: 's' }, 'Request body: ' + r.name), el('pre', {}, JSON.stringify(r.schema, null, 2)));
      }
      for (const [code, resp] of Object.entries(op.responses)) {
        const c = resp.content && (resp.content['application/json'] || resp.content['application/problem+json']);
        const r = c ? resolve(doc, c.schema) : { name: '' };
        d.append(el('div', { class: 's' }, code + ' — ' + resp.description + (r.name ? ' (' + r.name + ')' : '')));
      }
      main.append(d);
    }
  }
}).catch(e => { document.getElementById('main').textContent = 'Could not load the API document: ' + e; });
