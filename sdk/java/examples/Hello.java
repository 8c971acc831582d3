// The README's quick start: connects with $TOKEN, follows channel "news" and prints what
// arrives, until Ctrl-C.
import io.wshub.client.Client;
import io.wshub.client.ClientListener;
import io.wshub.client.ClientOptions;
import io.wshub.client.Publication;
import io.wshub.client.SubscribedEvent;
import io.wshub.client.Subscription;
import io.wshub.client.SubscriptionListener;

public class Hello {
    public static void main(String[] args) throws Exception {
        Client client = new Client("ws://127.0.0.1:8077/hub",
            ClientOptions.builder().token(System.getenv("TOKEN")).build());
        client.setListener(new ClientListener() {
            @Override
            public void onState(State state, State previous) {
                System.out.println("state: " + state);
            }

            @Override
            public void onError(Throwable error) {
                System.out.println("error: " + error.getMessage());
            }
        });
        client.subscribe("news", new SubscriptionListener() {
            @Override
            public void onPublication(Subscription sub, Publication pub) {
                System.out.println("news " + pub.off + " " + pub.data);
            }

            @Override
            public void onSubscribed(Subscription sub, SubscribedEvent e) {
                System.out.println("subscribed at " + e.ep + " " + e.off);
            }
        });
        client.connect();
        Thread.currentThread().join(); // the client runs on its own thread
    }
}
