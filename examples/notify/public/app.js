// The demo page of examples/notify: the Ratchet Symfony tutorial's browser client (the
// `webSocket` object below, kept as the tutorial wrote it), plus a small UI around it.
// No build step, no dependencies. Everything received is shown with textContent.

// The tutorial's Twig template prints these two in <script id="JS-CONST">. This page is a
// static file, so it takes them from its own address: http://HOST:PORT/?token=JWT
const BASE_URL = location.hostname;
const JWTToken = new URLSearchParams(location.search).get('token') ?? '';
// The one change to the tutorial's client: it hard-codes port 8080. Capstan serves this page
// on its WebSocket port, so when the page came from another port (tests use random ones),
// connect there; 8080 stays the default.
const WS_PORT = location.port || '8080';

const webSocket = {
    init: function () {
        this.conn = new WebSocket(`ws://${BASE_URL}:${WS_PORT}?token=${JWTToken}`); // tutorial: :8080
        this.initConn();

        console.log('Messaging websocket OK')
    },
    initConn: function () {
        this.conn.onopen = () => this.handleWebSocketOpen();
        this.conn.onclose = () => this.handleWebSocketClose();
        this.conn.onmessage = (event) => this.handleWebSocketMessage(event);
    },
    conn: null,
    fatalErrorMessage: null,
    send: function (action, data) {
        if (1 !== webSocket.conn.readyState) return;

        webSocket.conn.send(
            JSON.stringify({
                action: action,
                data: data,
            })
        );
    },
    handleWebSocketOpen: function () {
        console.log("Connexion établie !");
        ui.setConnected(true);
        this.send('users', {});
    },
    handleWebSocketClose: function () {
        console.log("Connexion interrompue !");
        ui.setConnected(false);
    },
    handleWebSocketMessage: async function (event) {
        const message = JSON.parse(event.data);
        const data = JSON.parse(message.data);

        switch (message.action) {
            case 'notify':
                ui.addNotification(data, false);
                break;
            case 'message':
                ui.addNotification(data, true);
                break;
            case 'show':
                ui.showProduct(data);
                break;
            case 'users':
                ui.setUsers(data);
                break;
            case 'error':
                ui.showError(data);
                break;
            case 'fatalError':
                this.fatalErrorMessage = data.message;
                ui.showFatalError(this.fatalErrorMessage);
                break;
        }
    },
};

// ---------------------------------------------------------------------------------------
// The page around it.

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
        if (key === 'dataset') Object.assign(node.dataset, value);
        else if (key in node) node[key] = value;
        else node.setAttribute(key, value);
    }
    node.append(...children); // strings become text nodes: nothing is parsed as HTML
    return node;
}

// The JWT's payload, read without checking the signature (the server does that).
function jwtPayload(token) {
    try {
        const part = token.split('.')[1];
        const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const payload = JSON.parse(new TextDecoder().decode(bytes));
        return payload && typeof payload === 'object' ? payload : null;
    } catch {
        return null;
    }
}

const me = jwtPayload(JWTToken);
const myIdentity = me && typeof me.username === 'string' ? me.username : null;

const ui = {
    connected: false,
    users: new Map(), // id -> {id, email, pseudo}

    setConnected(connected) {
        this.connected = connected;
        const status = $('status');
        const state = connected ? 'connected' : 'closed';
        status.dataset.state = state;
        status.textContent = connected ? 'connected' : 'disconnected';
        for (const button of document.querySelectorAll('button[data-needs-connection]')) button.disabled = !connected;
        const placeholder = $('users-placeholder');
        if (placeholder && !connected) placeholder.textContent = 'Not connected.';
    },

    // Called before each request, so an old error does not stay on screen.
    clearError() {
        $('error').hidden = true;
        $('error').textContent = '';
    },

    showError(data) {
        // {"message": "..."}, or a list of messages for validation errors
        const text = Array.isArray(data) ? data.join(' · ') : (data && data.message) || 'Invalid request';
        $('error').textContent = `Error: ${text}`;
        $('error').hidden = false;
    },

    showFatalError(text) {
        $('fatal-error').textContent = `Fatal error: ${text || 'Invalid request'} — the server closed the connection.`;
        $('fatal-error').hidden = false;
    },

    setUsers(list) {
        this.users = new Map((Array.isArray(list) ? list : []).map((user) => [user.id, user]));
        const rows = [...this.users.values()].map((user) => this.userRow(user));
        $('users').replaceChildren(...rows);
        if (rows.length === 0) $('users').append(el('li', { className: 'muted' }, 'No users.'));
    },

    userRow(user) {
        const name = String(user.pseudo ?? user.email ?? user.id);
        const input = el('input', {
            type: 'text', required: true, autocomplete: 'off', placeholder: `Notify ${name}…`,
            id: `notify-input-${user.id}`, 'data-testid': `notify-input-${user.id}`,
        });
        input.setAttribute('aria-label', `Notification text for ${name}`);
        const button = el('button', {
            type: 'submit', textContent: 'Notify', disabled: !this.connected,
            'data-testid': `notify-button-${user.id}`, dataset: { needsConnection: '' },
        });
        const sent = el('span', { className: 'sent', 'data-testid': `notify-sent-${user.id}` });
        const form = el('form', { className: 'row' }, input, button);
        form.addEventListener('submit', (event) => {
            event.preventDefault();
            const text = input.value.trim();
            if (!text) return;
            this.clearError();
            webSocket.send('notify', { to: [user.id], text });
            input.value = '';
            sent.textContent = 'sent';
            clearTimeout(sent.timer);
            sent.timer = setTimeout(() => { sent.textContent = ''; }, 2000);
        });
        const who = el('div', { className: 'who' },
            el('strong', {}, name), ' ', el('span', { className: 'email' }, String(user.email ?? '')));
        if (myIdentity !== null && user.email === myIdentity) who.append(' ', el('span', { className: 'you' }, 'you'));
        who.append(sent);
        return el('li', { 'data-testid': 'user-row', dataset: { userId: String(user.id) } }, who, form);
    },

    // data: {"to": [...], "text": "...", "from": {"id": 1, "identity": "alice@example.com"}}
    addNotification(data, toEveryone) {
        const from = (data && data.from) || {};
        const sender = this.users.get(from.id);
        const name = String(sender ? sender.pseudo : from.identity ?? 'someone');
        const text = String(data && data.text !== undefined ? data.text : JSON.stringify(data));
        const time = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
        const item = el('li', { 'data-testid': 'notification', dataset: { kind: toEveryone ? 'message' : 'notify' } },
            el('span', { className: 'line' }, el('strong', { className: 'from' }, name), ': ', el('span', { className: 'text' }, text)),
            el('span', { className: 'meta' }, toEveryone ? `to everyone · ${time}` : time));
        $('notifications').prepend(item);
        $('notifications-empty').hidden = true;
    },

    // data: {"id": 1, "name": "Capstan mug", "price": 12.5, "created_at": "5 minutes ago"}
    showProduct(data) {
        $('product-name').textContent = String(data.name);
        const price = Number(data.price);
        $('product-price').textContent = Number.isFinite(price) ? price.toFixed(2) : String(data.price);
        $('product-created').textContent = `created ${data.created_at}`;
        $('product-card').dataset.productId = String(data.id);
        $('product-card').hidden = false;
    },
};

// Who I am, from the token in the address.
if (myIdentity !== null) $('whoami').textContent = myIdentity;
else $('whoami').textContent = JWTToken ? 'unreadable token' : 'nobody (no ?token= in the address)';
$('whoami').classList.toggle('muted', myIdentity === null);

for (const id of ['broadcast-button', 'show-product']) $(id).dataset.needsConnection = '';

$('broadcast-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('broadcast-text').value.trim();
    if (!text) return;
    ui.clearError();
    webSocket.send('message', { text });
    $('broadcast-text').value = '';
});

const productLabel = () => { $('show-product').textContent = `Show product ${$('product-id').value || '…'}`; };
$('product-id').addEventListener('input', productLabel);
$('product-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = Number.parseInt($('product-id').value, 10);
    if (!Number.isInteger(id)) return;
    ui.clearError();
    $('product-card').hidden = true; // until the answer, which may be an error
    webSocket.send('show', { id });
});
productLabel();

webSocket.init();

export default webSocket;
