import java.net.InetSocketAddress;
import org.littleshoot.proxy.HttpProxyServer;
import org.littleshoot.proxy.impl.DefaultHttpProxyServer;

/**
 * LittleProxy, the Netty forward proxy, as compare.sh's JVM peer for the forward rows: started on
 * 127.0.0.1 at the port given, with its defaults, until killed. Prints "Listening on PORT".
 * Run as a single-file program with LittleProxy and its dependencies on the class path, which
 * compare.sh fetches from Maven Central (xyz.rogfam:littleproxy).
 */
public final class LittleProxyPeer {
  public static void main(String[] args) throws InterruptedException {
    HttpProxyServer server = DefaultHttpProxyServer.bootstrap()
        .withAddress(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
        .start();
    System.out.println("Listening on " + server.getListenAddress().getPort());
    Thread.currentThread().join();
  }
}
