// The public API of the wshub JS SDK (see README.md).
export { Client } from './client.js';
export type { ClientOptions, ClientEvents, ConnectionState, ConnectedEvent, DisconnectedEvent, RequestOptions } from './client.js';
export { Subscription } from './subscription.js';
export type { SubscriptionState, SubscribedEvent, UnsubscribedEvent, SubscriptionEvents } from './subscription.js';
export { Inbox } from './inbox.js';
export type { InboxHandler, InboxError } from './inbox.js';
export { WshubError, ServerError, TimeoutError, DisconnectedError, TransportError } from './errors.js';
export type { WshubErrorKind } from './errors.js';
export { Backoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { memoryStorage, localStorageStorage, wxStorage } from './storage.js';
export type { CursorStorage, WebStorageLike, WxStorageApi } from './storage.js';
export { websocketTransport } from './transport.js';
export type { Transport, TransportConnection, TransportHandlers, WebSocketLike, WebSocketConstructor } from './transport.js';
export { wxTransport, wxSocketsOpen, WX_MAX_SOCKETS } from './wx.js';
export type { WxSocketApi, WxSocketTask, WxConnectSocketOptions, WxTransportOptions } from './wx.js';
export { SUBPROTOCOL, ErrorCode, CloseCode, closeAllowsReconnect, errorIsRetryable } from './protocol.js';
export type {
  StreamPosition, Publication, SubscribeAnswer, ConnectAnswer, PublishAnswer, PresenceAnswer, InboxMessage,
  JoinLeave, DisconnectPush,
} from './protocol.js';
export type { Clock } from './clock.js';
export { VERSION } from './version.js';
