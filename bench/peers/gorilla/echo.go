// gorilla/websocket echo peer for bench/run.sh: one OS thread for Go code
// (GOMAXPROCS=1), echoes text and binary messages on any path, no compression.
// ReadMessage/WriteMessage as in gorilla's own echo example: WriteMessage sends header and
// payload in one write, where NextWriter+io.Copy cuts a 64 KiB message into 4 KiB frames.
// Knows nothing about wshub.
package main

import (
	"fmt"
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
		kind, message, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if err := conn.WriteMessage(kind, message); err != nil {
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
