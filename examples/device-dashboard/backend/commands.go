// The operator's commands: the dashboard page sends {"t":"rpc","m":"command","data":{device,
// action}} to wshub, wshub POSTs it here as an rpc webhook (decoded and answered by the SDK's
// wshub.WebhookHandler), and the backend publishes the command to the terminal's personal
// channel $device:ID, where the terminal gets it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"sync/atomic"
	"time"

	wshub "wshub.dev/sdk/go"
)

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

// Call answers an rpc: its data becomes the client's {"t":"ok","data":...}; a wshub.Refusal
// (error codes from wshub's own table, so that clients read them alike) becomes
// {"t":"err","code","msg"}.
func (c *Commands) Call(ctx context.Context, call wshub.RPCEvent) (any, error) {
	if call.Method != "command" {
		return nil, wshub.Refuse(wshub.CodeMethodNotFound, "no rpc method %q here; this backend answers \"command\"", call.Method)
	}
	if call.User != OperatorUser {
		return nil, wshub.Refuse(wshub.CodePermissionDenied, "only the operator sends commands, not %q", call.User)
	}
	var request CommandRequest
	if err := json.Unmarshal(call.Data, &request); err != nil {
		return nil, wshub.Refuse(wshub.CodeBadRequest, "data must be {\"device\":ID,\"action\":NAME}: %v", err)
	}
	if err := checkDeviceID(request.Device); err != nil {
		return nil, wshub.Refuse(wshub.CodeBadRequest, "%v", err)
	}
	if !actions[request.Action] {
		return nil, wshub.Refuse(wshub.CodeBadRequest, "unknown action %q; terminals know \"toggle_led\"", request.Action)
	}
	if err := c.Terminals.Reachable(request.Device, time.Now()); err != nil {
		return nil, wshub.Refuse(wshub.CodeNotAvailable, "%v", err)
	}
	command := Command{ID: fmt.Sprintf("cmd-%d", c.issued.Add(1)), Action: request.Action, By: call.User}
	position, err := c.Hub.Publish(ctx, wshub.PublishRequest{Channel: "$device:" + request.Device, Data: command})
	if err != nil {
		log.Printf("command %s for %s not published: %v", command.ID, request.Device, err)
		return nil, wshub.Refuse(wshub.CodeInternal, "the command was not sent: %v", err)
	}
	log.Printf("command %s (%s) sent to %s by %s", command.ID, command.Action, request.Device, call.User)
	return CommandQueued{Queued: true, Command: command.ID, Offset: position.Offset}, nil
}
