// The inspector page: polls /ui/api/events and /ui/api/groups about once a
// second and renders what they answer. Every value goes into the page as
// text (textContent), never as HTML. A ?token= in the page's address is sent
// on the API calls as "Authorization: Bearer".
'use strict';

(function () {
  const MAX_EVENTS = 100;
  const POLL_MS = 1000;
  const token = new URLSearchParams(window.location.search).get('token');
  let lastSequence = null;  // the journal head seen by the last events call

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function getJson(path) {
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    const response = await fetch(path, { headers: headers, cache: 'no-store' });
    const body = await response.json();
    if (!response.ok) {
      throw new Error(response.status + ' ' + (body.error || '') +
                      (body.detail ? ': ' + body.detail : ''));
    }
    return body;
  }

  // Nested objects (the typed fields' lead, referrer, campaign) as
  // "lead.email"-style pairs.
  function flatten(prefix, value, pairs) {
    if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        flatten(prefix ? prefix + '.' + key : key, inner, pairs);
      }
    } else {
      pairs.push([prefix, value]);
    }
    return pairs;
  }

  function definitionList(pairs, className) {
    const list = element('dl', className);
    for (const [key, value] of pairs) {
      list.appendChild(element('dt', null, key));
      list.appendChild(element('dd', null, value));
    }
    return list;
  }

  function renderEvent(event) {
    const card = element('article', 'event');
    card.setAttribute('data-sequence', String(event.sequence));
    const head = element('div', 'event-head');
    head.append(element('span', 'sequence', '#' + event.sequence),
                element('time', 'received-at', event.received_at),
                element('span', 'source', event.source),
                element('span', 'type', event.type));
    card.appendChild(head);
    const typed = flatten('', event.refir, []);
    if (typed.length > 0) card.appendChild(definitionList(typed, 'fields'));
    const size = event.body_bytes + ' bytes' + (event.body_truncated ? ', truncated' : '');
    card.appendChild(element('div', 'body-label', 'Body (' + size + ')'));
    card.appendChild(element('pre', 'body', event.body));
    const details = element('details', 'headers');
    details.appendChild(element('summary', null, 'Headers'));
    const meta = [['id', event.id], ['content-type', event.content_type],
                  ['remote address', event.remote_addr]];
    details.appendChild(definitionList(meta.concat(Object.entries(event.headers)), 'fields'));
    card.appendChild(details);
    return card;
  }

  async function pollEvents() {
    const path = lastSequence === null ? '/ui/api/events'
                                       : '/ui/api/events?after=' + lastSequence;
    const answer = await getJson(path);
    const list = document.getElementById('events');
    for (const event of answer.events) list.prepend(renderEvent(event));
    while (list.childElementCount > MAX_EVENTS) list.lastElementChild.remove();
    lastSequence = answer.head;
    document.getElementById('events-note').hidden = list.childElementCount > 0;
  }

  async function pollGroups() {
    const answer = await getJson('/ui/api/groups');
    const rows = answer.groups.map(function (group) {
      const row = element('tr');
      row.setAttribute('data-group', group.name);
      const cells = [['name', group.name], ['lag', group.lag], ['pending', group.pending],
                     ['dead-letters', group.dead_letters], ['redelivered', group.redelivered],
                     ['cursor', group.cursor_sequence], ['head', group.head_sequence],
                     ['consumers', group.consumers.map((c) => c.client_id).join(', ')]];
      for (const [name, value] of cells) row.appendChild(element('td', name, value));
      return row;
    });
    document.querySelector('#groups tbody').replaceChildren(...rows);
    const note = document.getElementById('groups-note');
    note.textContent = answer.more ? 'Only the first ' + rows.length + ' groups are shown.'
                                   : 'No consumer groups yet.';
    note.hidden = rows.length > 0 && !answer.more;
  }

  async function poll() {
    const status = document.getElementById('status');
    try {
      await Promise.all([pollEvents(), pollGroups()]);
      status.textContent = 'live, updated ' + new Date().toLocaleTimeString();
      status.className = 'live';
    } catch (error) {
      status.textContent = 'cannot update: ' + error.message;
      status.className = 'error';
    }
    window.setTimeout(poll, POLL_MS);
  }

  document.addEventListener('DOMContentLoaded', poll);
})();
