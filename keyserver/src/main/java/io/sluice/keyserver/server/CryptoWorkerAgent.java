package io.sluice.keyserver.server;

import org.agrona.concurrent.Agent;

import io.sluice.keyserver.ipc.Operation;
import io.sluice.keyserver.ipc.ResponseFlyweight;
import io.sluice.keyserver.ipc.SignalIdleStrategy;
import io.sluice.keyserver.ipc.Status;
import io.sluice.nativeio.crypto.RsaPadding;
import io.sluice.nativeio.crypto.SignatureScheme;

/**
 * A crypto worker that reads its own work: when no other worker holds the request ring it reads it (answering cheap
 * lookups there), takes the first private-key operation, lets the ring go and runs the operation, writing the reply
 * straight into the client's response ring. No hand-off between a poller and a worker.
 */
final class CryptoWorkerAgent implements Agent
{
    private static final RsaPadding[] PADDINGS = RsaPadding.values();

    private final int index;
    private final RequestReader replies;
    private final CryptoTask task;
    private final ResponseFlyweight response = new ResponseFlyweight();
    private final SignalIdleStrategy idle;

    CryptoWorkerAgent(final int index, final RequestReader replies, final int maxPayloadLength, final SignalIdleStrategy idle)
    {
        this.index = index;
        this.idle = idle;
        this.replies = replies;
        this.task = new CryptoTask(maxPayloadLength);
    }

    @Override
    public int doWork()
    {
        final int work = replies.poll(task);
        if (task.entry != null)
        {
            // no longer polling: a request committed from now on wakes a sleeping worker, and one committed before
            // (which woke nobody while this worker counted as polling) is handed over now. A worker that was not
            // polling (woken from its sleep) needs no hand-over: poll's own hand-over already signalled for the rest
            if (idle.stopPolling())
            {
                replies.handOver();
            }
            execute(task);
        }
        return work;
    }

    private void execute(final CryptoTask task)
    {
        byte[] result = null;
        int status = Status.OK;
        try
        {
            if (task.operation == Operation.SIGN)
            {
                result = task.entry.key().sign(SignatureScheme.fromCode(task.param), task.payload, task.payloadLength);
                replies.countSign();
            }
            else
            {
                result = task.entry.key().decrypt(task.payload, task.payloadLength, PADDINGS[task.param]);
                replies.countDecrypt();
            }
            task.entry.ops().increment();
        }
        catch (final RuntimeException ex) // CryptoException mostly; anything else must still answer the client
        {
            status = Status.CRYPTO_FAILED;
            replies.countCryptoFailure();
        }
        replies.respondFromWorker(task, status, result, response);
    }

    @Override
    public String roleName()
    {
        return "keyserver-worker-" + index;
    }
}
