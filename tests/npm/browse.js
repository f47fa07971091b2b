// What the npm packages axis-discovery-bonjour and axis-discovery-ssdp find on this network, as a
// Node.js VMS would list it (tests/test_discovery_npm.py runs it in the LAN namespace).
//
//     node tests/npm/browse.js SECONDS
//
// Prints {"ready": true}, then one JSON line per event: {"package": "bonjour"|"ssdp",
// "event": "hello"|"goodbye", "device": {...the package's Device fields}}; searches again every
// 2 s (as a VMS refreshes its list) and exits after SECONDS.
'use strict';

const bonjour = require('axis-discovery-bonjour');
const ssdp = require('axis-discovery-ssdp');

const seconds = Number(process.argv[2] || '10');
const REFRESH_MS = 2000;

function report(pkg, event) {
    return (device) => {
        process.stdout.write(JSON.stringify({ package: pkg, event, device: { ...device } }) + '\n');
    };
}

async function main() {
    const mdns = new bonjour.Discovery();
    mdns.on('hello', report('bonjour', 'hello'));
    mdns.on('goodbye', report('bonjour', 'goodbye'));
    const upnp = new ssdp.Discovery();
    upnp.on('hello', report('ssdp', 'hello'));
    upnp.on('goodbye', report('ssdp', 'goodbye'));
    mdns.start();
    await upnp.start();
    process.stdout.write(JSON.stringify({ ready: true }) + '\n');
    const search = () => {
        mdns.search();
        upnp.search().catch(() => undefined);
    };
    search();
    const refresh = setInterval(search, REFRESH_MS);
    setTimeout(async () => {
        clearInterval(refresh);
        mdns.stop();
        await upnp.stop();
        process.exit(0);
    }, seconds * 1000);
}

main().catch((error) => {
    process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
    process.exit(1);
});
