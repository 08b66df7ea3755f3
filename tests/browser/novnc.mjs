// SPDX-License-Identifier: GPL-2.0-or-later
// The web page in a real browser (tests/browser/run): Debian's Chromium,
// headless, driven by playwright-core, opens the page vnc-fake serves and
// checks that noVNC shows the pattern exactly (read back from its
// canvas), then presses Ctrl-Alt-Del, types through the Type box and
// clicks the screen; run checks what vnc-fake received. Prints one "ok:"
// line a step, exits non-zero naming what failed. With PASSWORD (vnc-fake
// --password), the page must ask for it: a wrong one is refused, the page
// asks again, the right one connects and the pattern shows (no input steps).
//
//   node novnc.mjs URL WIDTH HEIGHT [PASSWORD]
import { chromium } from 'playwright-core';

const [url, width, height] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const password = process.argv[5];
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--no-first-run'],
});
let status = 0;
try {
	const page = await browser.newPage({ viewport: { width: 1000, height: 720 } });
	page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
	await page.goto(url);
	if (password !== undefined) {
		const login = async (pw) => {
			await page.waitForFunction(() => document.title.endsWith(': password needed'), null,
				{ timeout: 30000 });
			await page.fill('#password', pw);
			await page.click('#login-button');
		};
		await login(`${password}x`);
		await page.waitForFunction(() => document.title.includes(': refused'), null, { timeout: 30000 });
		console.log(`ok: the page asked for the password and a wrong one was refused (${await page.title()})`);
		await login(password);
	}
	await page.waitForFunction(() => document.title.endsWith(': connected'), null, { timeout: 30000 });
	console.log('ok: the page connected to the VNC server');
	const wrong = await page.waitForFunction(([w, h]) => {
		const c = document.querySelector('#screen canvas');
		if (!c || c.width !== w || c.height !== h)
			return false;
		const d = c.getContext('2d').getImageData(0, 0, w, h).data;
		for (let y = 0; y < h; y++)
			for (let x = 0; x < w; x++) {
				const i = 4 * (y * w + x);
				if (d[i] !== (x & 255) || d[i + 1] !== (y & 255) || d[i + 2] !== ((3 * x + 5 * y) & 255))
					return false;
			}
		return true;
	}, [width, height], { timeout: 30000, polling: 500 }).then(() => null, (e) => e);
	if (wrong)
		throw new Error(`the canvas never showed the ${width}x${height} pattern: ${wrong.message}`);
	console.log(`ok: noVNC's canvas is the ${width}x${height} pattern, pixel for pixel`);
	if (password === undefined) { // the input steps, once
		await page.click('#cad');
		await page.fill('#clip', 'Hi');
		await page.click('#paste');
		const box = await page.locator('#screen canvas').boundingBox();
		await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
		await page.waitForTimeout(1000);
		console.log('ok: pressed Ctrl-Alt-Del, typed "Hi", clicked the middle of the screen');
	}
} catch (e) {
	console.error(`FAIL: ${e.message}`);
	status = 1;
} finally {
	await browser.close();
}
process.exit(status);
