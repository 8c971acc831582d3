// The README's quick start: subscribe to "news" on a local wshub and print what arrives.
import WebSocket from 'ws';
import { Client } from '@wshub/client';

const client = new Client('ws://127.0.0.1:8077/hub', { WebSocket, token: process.env.TOKEN });
client.on('state', ({ state }) => console.log('state:', state));
client.on('error', (error) => console.error('error:', error.message));
const news = client.subscribe('news', (pub) => console.log('news', pub.off, JSON.stringify(pub.data)));
news.on('subscribed', (e) => console.log('subscribed at', e.ep, e.off));
client.connect();
