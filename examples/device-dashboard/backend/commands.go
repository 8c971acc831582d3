// The operator's commands: the dashboard page sends {"t":"rpc","m":"command","data":{device,
// action}} to wshub, wshub POSTs it here as an rpc webhook, and the backend publishes the
// command to the terminal's personal channel $device:ID, where the terminal gets it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"sync/atomic"
	"time"
)

// Error codes of rpc refusals, from wshub's own table so that clients read them alike.
const (
	codeInternal         = 100
	codePermissionDenied = 103
	codeMethodNotFound   = 104
	codeBadRequest       = 107
	codeNotAvailable     = 108
)

// RPCCall is the rpc webhook's body: {"type":"rpc","cid","user","device","m","data"}.
type RPCCall struct {
	ConnectionID string          `json:"cid"`
	User         string          `json:"user"`
	Device       string          `json:"device"`
	Method       string          `json:"m"`
	Data         json.RawMessage `json:"data"`
}

// RPCAnswer is the webhook's answer: {"data":...} becomes the client's {"t":"ok","data":...};
// {"error":{"code","message"}} becomes {"t":"err","code","msg"}. Either way HTTP 200: any other
// status means "backend unavailable" (116) to wshub.
type RPCAnswer struct {
	Data  any         `json:"data,omitempty"`
	Error *RPCRefusal `json:"error,omitempty"`
}

type RPCRefusal struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func refuse(code int, format string, args ...any) RPCAnswer {
	return RPCAnswer{Error: &RPCRefusal{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// CommandRequest is the data of a "command" rpc.
type CommandRequest struct {
	Device string `json:"device"`
	Action string `json:"action"`
}

// Command is what the terminal receives on $device:ID, as the data of a pub push.
type Command struct {
	ID     string `json:"command"`
	Action string `json:"action"`
	By     string `json:"by"`
}

// CommandQueued is the rpc's data when the command went out.
type CommandQueued struct {
	Queued  bool   `json:"queued"`
	Command string `json:"command"`
	Offset  uint64 `json:"offset"`
}

// The actions a terminal knows.
var actions = map[string]bool{"toggle_led": true}

// Commands answers rpc calls.
type Commands struct {
	Hub       Publisher
	Terminals *Terminals
	issued    atomic.Uint64
}

func (c *Commands) Call(ctx context.Context, call RPCCall) RPCAnswer {
	if call.Method != "command" {
		return refuse(codeMethodNotFound, "no rpc method %q here; this backend answers \"command\"", call.Method)
	}
	if call.User != OperatorUser {
		return refuse(codePermissionDenied, "only the operator sends commands, not %q", call.User)
	}
	var request CommandRequest
	if err := json.Unmarshal(call.Data, &request); err != nil {
		return refuse(codeBadRequest, "data must be {\"device\":ID,\"action\":NAME}: %v", err)
	}
	if err := checkDeviceID(request.Device); err != nil {
		return refuse(codeBadRequest, "%v", err)
	}
	if !actions[request.Action] {
		return refuse(codeBadRequest, "unknown action %q; terminals know \"toggle_led\"", request.Action)
	}
	if err := c.Terminals.Reachable(request.Device, time.Now()); err != nil {
		return refuse(codeNotAvailable, "%v", err)
	}
	command := Command{ID: fmt.Sprintf("cmd-%d", c.issued.Add(1)), Action: request.Action, By: call.User}
	position, err := c.Hub.Publish(ctx, "$device:"+request.Device, command)
	if err != nil {
		log.Printf("command %s for %s not published: %v", command.ID, request.Device, err)
		return refuse(codeInternal, "the command was not sent: %v", err)
	}
	log.Printf("command %s (%s) sent to %s by %s", command.ID, command.Action, request.Device, call.User)
	return RPCAnswer{Data: CommandQueued{Queued: true, Command: command.ID, Offset: position.Offset}}
}
