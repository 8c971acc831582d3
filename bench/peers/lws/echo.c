/* libwebsockets echo peer for bench/run.sh: one lws_context, one vhost on 127.0.0.1,
 * one protocol whose callback echoes each complete text or binary message on any path.
 * Messages are reassembled across fragments and rx chunks, queued per connection and
 * written from LWS_CALLBACK_SERVER_WRITEABLE. No extensions (no permessage-deflate).
 * Knows nothing about wshub. */
#include <libwebsockets.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Larger than any message the benchmarks send (16 MiB). */
#define MAX_MESSAGE_BYTES ((size_t)64 << 20)
/* Past this many unsent messages a connection stops reading until its queue drains,
 * so a client that does not read cannot grow the queue without bound. */
#define QUEUE_PAUSE_AT 64
/* lws's default rx buffer (and with it the send() size) is 4 KiB, which makes it read and
 * write a 64 KiB message in 16 pieces; 64 KiB buffers cost idle connections nothing here
 * (measured with the idle scenario), so the peer uses them. */
#define IO_BUFFER_BYTES 65536

/* One complete message, with LWS_PRE bytes of headroom before payload for lws_write. */
struct message {
  struct message *next;
  size_t length;
  int binary;
  unsigned char bytes[];
};

struct session {
  struct message *partial;  /* message being reassembled, or NULL */
  size_t partial_capacity;
  struct message *head, *tail;  /* complete messages waiting to be written */
  unsigned queued;
  int rx_paused;
};

static volatile int interrupted;

static void free_queue(struct session *s) {
  while (s->head) {
    struct message *m = s->head;
    s->head = m->next;
    free(m);
  }
  s->tail = NULL;
  s->queued = 0;
  free(s->partial);
  s->partial = NULL;
  s->partial_capacity = 0;
}

/* Appends a chunk to the partial message; returns 0, or -1 when over the limit or out of memory. */
static int append_chunk(struct session *s, struct lws *wsi, const void *in, size_t len) {
  if (!s->partial) {
    size_t capacity = len + lws_remaining_packet_payload(wsi);
    if (capacity < 256) capacity = 256;
    if (capacity > MAX_MESSAGE_BYTES) return -1;
    s->partial = malloc(sizeof(struct message) + LWS_PRE + capacity);
    if (!s->partial) return -1;
    s->partial->next = NULL;
    s->partial->length = 0;
    s->partial->binary = lws_frame_is_binary(wsi);
    s->partial_capacity = capacity;
  }
  size_t needed = s->partial->length + len;
  if (needed > MAX_MESSAGE_BYTES) return -1;
  if (needed > s->partial_capacity) {
    size_t capacity = s->partial_capacity * 2;
    size_t want = needed + lws_remaining_packet_payload(wsi);
    if (capacity < want) capacity = want;
    if (capacity > MAX_MESSAGE_BYTES) capacity = MAX_MESSAGE_BYTES;
    struct message *grown = realloc(s->partial, sizeof(struct message) + LWS_PRE + capacity);
    if (!grown) return -1;
    s->partial = grown;
    s->partial_capacity = capacity;
  }
  memcpy(s->partial->bytes + LWS_PRE + s->partial->length, in, len);
  s->partial->length = needed;
  return 0;
}

static void enqueue_partial(struct session *s) {
  struct message *m = s->partial;
  s->partial = NULL;
  s->partial_capacity = 0;
  if (s->tail) s->tail->next = m;
  else s->head = m;
  s->tail = m;
  s->queued++;
}

static int callback_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
  struct session *s = user;
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
      memset(s, 0, sizeof *s);
      break;

    case LWS_CALLBACK_RECEIVE:
      if (append_chunk(s, wsi, in, len)) return -1;
      if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        enqueue_partial(s);
        if (s->queued >= QUEUE_PAUSE_AT && !s->rx_paused) {
          s->rx_paused = 1;
          lws_rx_flow_control(wsi, 0);
        }
        lws_callback_on_writable(wsi);
      }
      break;

    case LWS_CALLBACK_SERVER_WRITEABLE: {
      struct message *m = s->head;
      if (!m) break;
      s->head = m->next;
      if (!s->head) s->tail = NULL;
      s->queued--;
      /* lws_write buffers whatever the socket does not take and sends it before the next
       * WRITEABLE callback, so one call per message is enough. */
      int n = lws_write(wsi, m->bytes + LWS_PRE, m->length, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
      int written_ok = n >= 0 && (size_t)n >= m->length;
      free(m);
      if (!written_ok) return -1;
      if (s->rx_paused && s->queued < QUEUE_PAUSE_AT / 2) {
        s->rx_paused = 0;
        lws_rx_flow_control(wsi, 1);
      }
      if (s->head) lws_callback_on_writable(wsi);
      break;
    }

    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
      if (s) free_queue(s);
      break;

    default:
      break;
  }
  return 0;
}

static const struct lws_protocols protocols[] = {
    {"echo", callback_echo, sizeof(struct session), IO_BUFFER_BYTES, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  lws_set_log_level(LLL_ERR | LLL_WARN, NULL);

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = atoi(argv[1]);
  info.iface = "127.0.0.1";
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
  info.count_threads = 1;
  info.pt_serv_buf_size = IO_BUFFER_BYTES;

  struct lws_context *context = lws_create_context(&info);
  if (!context) {
    fprintf(stderr, "lws_create_context failed\n");
    return 1;
  }
  while (!interrupted && lws_service(context, 0) >= 0) {
  }
  lws_context_destroy(context);
  return 0;
}
