#!/usr/bin/python3
"""A Murano engine's messaging, reduced to what reaches an agent: kombu over AMQP 0-9-1, for the tests.

It talks to the agent the way an unmodified Murano engine talks to murano-agent (murano/common/messaging/
mqclient.py and message.py, reproduced from their behaviour, not copied):

- both queues are declared as Murano declares them: durable, with `x-ha-policy: all` and `x-expires: 24 h`
  (86 400 000 ms): the agent's input queue (its name is murano-agent's `input_queue`) and the results queue;
- a plan is published as JSON on the default exchange (`''`) with routing key = the input queue's name,
  `message_id` = the plan's `ID`, persistent (kombu's default delivery mode 2), and no headers;
- results are consumed from the results queue and acknowledged at once, as the engine's listener does.

Usage: kombu_engine.py AMQP_URL INPUT_QUEUE RESULTS_QUEUE

The test drives it through JSON lines:
- stdin, one object per line: `{"plan": {...}}` publishes a plan; `"headers": {...}` adds AMQP headers to that
  message (only to show what a header of the wrong type does: Murano sends none); `{"depth": "QUEUE"}` asks for
  a queue's message count (a passive declare; `null` when the queue does not exist).
- stdout, one object per line: `{"event": "ready"}` once both queues are declared and the results consumer is
  on; `{"event": "published", "id": ID}` once the broker has the message (publisher confirms on); `{"event":
  "result", "messageId": ..., "routingKey": ..., "headers": {...}, "body": {...}}` per result;
  `{"event": "depth", "queue": Q, "messages": N}`; `{"event": "error", "message": ...}` on a failure (then exit 1).

Needs Debian's python3-kombu (`apt-get install python3-kombu`): the test says so when it is missing.
"""
import json
import queue
import sys
import threading

import kombu
from amqp.exceptions import NotFound

# murano/common/messaging/mqclient.py: enable_ha=True, ttl = 24 h for the queues the engine declares.
MURANO_QUEUE_ARGUMENTS = {'x-ha-policy': 'all', 'x-expires': 86400000}


def emit(event):
    sys.stdout.write(json.dumps(event) + '\n')
    sys.stdout.flush()


def declare(channel, name):
    exchange = kombu.Exchange('', type='direct', durable=True)
    kombu.Queue(name, exchange, name, durable=True,
                queue_arguments=MURANO_QUEUE_ARGUMENTS)(channel).declare()


def depth(connection, name):
    # A channel of its own: a passive declare of a missing queue closes the channel it runs on.
    channel = connection.channel()
    try:
        _, count, _ = channel.queue_declare(queue=name, passive=True)
        return count
    except NotFound:
        return None
    finally:
        if channel.is_open:
            channel.close()


def read_commands(commands):
    for line in sys.stdin:
        if line.strip():
            commands.put(json.loads(line))
    commands.put(None)


def main():
    url, input_queue, results_queue = sys.argv[1:4]
    connection = kombu.Connection(url, transport_options={'confirm_publish': True})
    connection.connect()
    channel = connection.channel()
    declare(channel, input_queue)
    declare(channel, results_queue)
    producer = kombu.Producer(channel)

    def on_result(body, message):
        message.ack()
        if isinstance(body, (bytes, str)):
            body = json.loads(body)
        emit({'event': 'result', 'messageId': message.properties.get('message_id'),
              'routingKey': message.delivery_info.get('routing_key'),
              'headers': message.headers, 'body': body})

    consumer = kombu.Consumer(channel, queues=[kombu.Queue(results_queue, channel=channel)],
                              callbacks=[on_result], auto_declare=False)
    consumer.consume()
    commands = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()
    emit({'event': 'ready'})
    while True:
        try:
            connection.drain_events(timeout=0.05)
        except TimeoutError:
            pass
        while not commands.empty():
            command = commands.get()
            if command is None:
                connection.release()
                return
            if 'depth' in command:
                emit({'event': 'depth', 'queue': command['depth'],
                      'messages': depth(connection, command['depth'])})
                continue
            plan = command['plan']
            producer.publish(json.dumps(plan), exchange='', routing_key=input_queue,
                             message_id=str(plan['ID']), headers=command.get('headers'))
            emit({'event': 'published', 'id': plan['ID']})


if __name__ == '__main__':
    try:
        main()
    except Exception as error:  # reported to the test, which fails with it
        emit({'event': 'error', 'message': '%s: %s' % (type(error).__name__, error)})
        sys.exit(1)
