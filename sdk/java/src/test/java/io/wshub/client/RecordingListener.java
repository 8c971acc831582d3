// A ClientListener that records states, disconnects and errors in order, safe to read from the
// test's thread while the client's thread writes.
package io.wshub.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

final class RecordingListener implements ClientListener {
    final List<State> states = Collections.synchronizedList(new ArrayList<State>());
    final List<DisconnectedEvent> disconnects = Collections.synchronizedList(new ArrayList<DisconnectedEvent>());
    final List<Throwable> errors = Collections.synchronizedList(new ArrayList<Throwable>());

    @Override
    public void onState(State state, State previous) {
        states.add(state);
    }

    @Override
    public void onDisconnected(DisconnectedEvent event) {
        disconnects.add(event);
    }

    @Override
    public void onError(Throwable error) {
        errors.add(error);
    }

    DisconnectedEvent lastDisconnect() {
        return disconnects.get(disconnects.size() - 1);
    }
}
