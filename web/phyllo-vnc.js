// SPDX-License-Identifier: GPL-2.0-or-later
// The browser side of --display web=: one noVNC RFB connection to the VNC
// server's port on the host that served the page, shown scaled to the
// window; Ctrl-Alt-Del and "Type" (the text box goes to the guest as
// key presses, through the VNC clipboard message, which phyllo-vmm types:
// the guest needs no agent). Reconnects when the VMM restarts. When the
// server asks for a password (password_file=), the password form shows;
// the password is kept in this page only, for reconnects.
import RFB from './novnc/core/rfb.js';

const statusEl = document.getElementById('status');
const screenEl = document.getElementById('screen');
const scaleEl = document.getElementById('scale');
const loginEl = document.getElementById('login');
const passwordEl = document.getElementById('password');
let rfb = null;
let password = null;

function setStatus(text) {
	statusEl.textContent = text;
	document.title = `phyllome: ${text}`;
}

function connect() {
	const host = location.hostname.includes(':') && !location.hostname.startsWith('[')
		? `[${location.hostname}]` : location.hostname;
	const scheme = location.protocol === 'https:' ? 'wss' : 'ws';

	setStatus('connecting');
	rfb = new RFB(screenEl, `${scheme}://${host}:${window.PHYLLO_VNC_PORT}/`, { shared: true });
	rfb.scaleViewport = scaleEl.checked;
	rfb.resizeSession = false; // the guest chooses its mode
	rfb.addEventListener('connect', () => setStatus('connected'));
	rfb.addEventListener('credentialsrequired', () => {
		if (password !== null) {
			rfb.sendCredentials({ password });
			return;
		}
		setStatus('password needed');
		loginEl.hidden = false;
		passwordEl.focus();
	});
	rfb.addEventListener('securityfailure', (e) => {
		password = null; // asked again on the next try
		setStatus(`refused: ${e.detail.reason || 'wrong password'}`);
	});
	rfb.addEventListener('disconnect', (e) => {
		if (!statusEl.textContent.startsWith('refused'))
			setStatus(e.detail.clean ? 'disconnected' : 'connection lost');
		rfb = null;
		setTimeout(connect, 2000);
	});
	rfb.addEventListener('desktopname', (e) => { document.title = `${e.detail.name}: ${statusEl.textContent}`; });
}

loginEl.addEventListener('submit', (e) => {
	e.preventDefault();
	password = passwordEl.value;
	passwordEl.value = '';
	loginEl.hidden = true;
	if (rfb)
		rfb.sendCredentials({ password });
});
document.getElementById('cad').addEventListener('click', () => rfb && rfb.sendCtrlAltDel());
scaleEl.addEventListener('change', () => { if (rfb) rfb.scaleViewport = scaleEl.checked; });
document.getElementById('paste').addEventListener('click', () => {
	const text = document.getElementById('clip').value;

	if (rfb && text)
		rfb.clipboardPasteFrom(text);
});
connect();
