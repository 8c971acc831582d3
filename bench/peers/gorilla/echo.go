// gorilla/websocket echo peer for bench/run.sh: one OS thread for Go code
// (GOMAXPROCS=1), echoes text and binary messages on any path, no compression.
// Streams each message from NextReader to NextWriter, as gorilla's own examples do.
// Knows nothing about wshub.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"

	"github.com/gorilla/websocket"
)

// Larger than any message the benchmarks send (16 MiB).
const maxMessageBytes = 64 << 20

var upgrader = websocket.Upgrader{
	ReadBufferSize:    4096,
	WriteBufferSize:   4096,
	EnableCompression: false,
	CheckOrigin:       func(*http.Request) bool { return true },
}

func echo(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(maxMessageBytes)
	for {
		kind, reader, err := conn.NextReader()
		if err != nil {
			return
		}
		writer, err := conn.NextWriter(kind)
		if err != nil {
			return
		}
		if _, err := io.Copy(writer, reader); err != nil {
			return
		}
		if err := writer.Close(); err != nil {
			return
		}
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "usage: %s PORT\n", os.Args[0])
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	http.HandleFunc("/", echo)
	if err := http.ListenAndServe("127.0.0.1:"+os.Args[1], nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
