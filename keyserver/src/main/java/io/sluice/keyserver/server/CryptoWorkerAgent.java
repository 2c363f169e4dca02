package io.sluice.keyserver.server;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import io.sluice.keyserver.ipc.Operation;
import io.sluice.keyserver.ipc.ResponseFlyweight;
import io.sluice.keyserver.ipc.Status;
import io.sluice.nativeio.crypto.RsaPadding;
import io.sluice.nativeio.crypto.SignatureScheme;

/** Runs private-key operations off the IPC poller and writes each reply straight into the client's response ring. */
final class CryptoWorkerAgent implements Agent
{
    private static final int BATCH = 8;
    private static final RsaPadding[] PADDINGS = RsaPadding.values();

    private final int index;
    private final ManyToManyConcurrentArrayQueue<CryptoTask> tasks;
    private final KeyServerAgent replies;
    private final ResponseFlyweight response = new ResponseFlyweight();

    CryptoWorkerAgent(final int index, final ManyToManyConcurrentArrayQueue<CryptoTask> tasks, final KeyServerAgent replies)
    {
        this.index = index;
        this.tasks = tasks;
        this.replies = replies;
    }

    @Override
    public int doWork()
    {
        int work = 0;
        CryptoTask task;
        while (work < BATCH && (task = tasks.poll()) != null)
        {
            work++;
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
