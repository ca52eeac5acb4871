#!/usr/bin/env python3
"""An independent AMQP client (pika) for evtop's RabbitMQ tests: it builds an order flow, publishes,
consumes and rejects, so that RabbitMQ itself writes the x-death headers evtop reads.

  rabbit_client.py URL setup                       topic exchange `orders`, queue `billing` bound to it
                                                   with a dead-letter exchange `orders.dlx` (fanout) and
                                                   queue `billing.dlq`; queue `shipping` without a DLX
  rabbit_client.py URL publish QUEUE_OR_KEY N [--exchange X] [--correlation C] [--body-file F] [--header k=v] [--timestamp none]
                                                   [--linger SECONDS] (how long the channel stays open after, default 1.2)
  rabbit_client.py URL sagas N [--prefix P]        a saga flow over four exchanges, each with a service queue:
                                                   `orders` (topic) → `billing`/`shipping` (from setup),
                                                   `payments` (direct, key payment.charged) → `payments-svc`,
                                                   `fulfilment` (fanout) → `warehouse-svc`, `audit` (headers,
                                                   x-match any kind=saga) → `audit-svc`; then N sagas, each
                                                   OrderPlaced, PaymentCharged, OrderShipped, SagaAudited in
                                                   that order, correlation id P-i (default saga-i)
  rabbit_client.py URL mkexchange NAME TYPE QUEUE KEY  declares exchange NAME of TYPE and queue QUEUE bound to it with KEY
  rabbit_client.py URL reject QUEUE N              takes N messages and rejects them (requeue=false)
  rabbit_client.py URL drain QUEUE                 prints every message body (one JSON line each) and acks it
  rabbit_client.py URL tally QUEUE                 drains and acks the queue, prints one JSON summary: count,
                                                   copies per orderId, evtop-redrive-id per copy, x-death count
  rabbit_client.py URL count QUEUE                 prints the ready-message count (passive declare)
  rabbit_client.py URL consume QUEUE SECONDS       holds a consumer with prefetch 1 that never acks
  rabbit_client.py URL deaths QUEUE                drains and acks the queue, prints one JSON line per message:
                                                   its x-death entries, correlation-id, type, timestamp, routing key
  rabbit_client.py MGMT_URL mkvhost NAME            creates a vhost that guest may use (each test gets its own)
  rabbit_client.py MGMT_URL queues VHOST            prints the vhost's queues as JSON: name -> [messages, consumers, exclusive]
  rabbit_client.py MGMT_URL describe VHOST          prints the vhost's exchanges, queues (arguments, durable,
                                                   consumers) and bindings as one JSON object (management API)
  rabbit_client.py - ports N                        prints N free loopback TCP ports
"""
import json, sys, time, base64
import pika


def connect(url):
    return pika.BlockingConnection(pika.URLParameters(url))


def main():
    url, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "ports":
        import socket
        socks = [socket.socket() for _ in range(int(args[0]))]
        for s in socks: s.bind(("127.0.0.1", 0))
        print(" ".join(str(s.getsockname()[1]) for s in socks))
        return
    if cmd == "mkvhost":
        import urllib.request, urllib.parse
        name = urllib.parse.quote(args[0], safe="")
        auth = "Basic " + base64.b64encode(b"guest:guest").decode()
        for path, body in ((f"/api/vhosts/{name}", b"{}"),
                           (f"/api/permissions/{name}/guest", b'{"configure":".*","write":".*","read":".*"}')):
            req = urllib.request.Request(url + path, data=body, method="PUT",
                                         headers={"Authorization": auth, "content-type": "application/json"})
            urllib.request.urlopen(req, timeout=10).read()
        return
    if cmd == "queues":
        import urllib.request, urllib.parse
        name = urllib.parse.quote(args[0], safe="")
        auth = "Basic " + base64.b64encode(b"guest:guest").decode()
        req = urllib.request.Request(url + f"/api/queues/{name}?columns=name,messages,consumers,exclusive",
                                     headers={"Authorization": auth})
        queues = json.loads(urllib.request.urlopen(req, timeout=10).read())
        print(json.dumps({q["name"]: [q.get("messages"), q.get("consumers"), q.get("exclusive")] for q in queues}))
        return
    if cmd == "describe":
        import urllib.request, urllib.parse
        vhost = urllib.parse.quote(args[0], safe="")
        auth = "Basic " + base64.b64encode(b"guest:guest").decode()
        def get(path):
            req = urllib.request.Request(url + path, headers={"Authorization": auth})
            return json.loads(urllib.request.urlopen(req, timeout=10).read())
        print(json.dumps({
            "exchanges": {x["name"]: {"type": x["type"], "durable": x["durable"]} for x in get(f"/api/exchanges/{vhost}")},
            "queues": {q["name"]: {"arguments": q.get("arguments", {}), "durable": q["durable"],
                                   "consumers": q.get("consumers", 0)} for q in get(f"/api/queues/{vhost}")},
            "bindings": [{"source": b["source"], "destination": b["destination"], "key": b["routing_key"]}
                         for b in get(f"/api/bindings/{vhost}") if b["source"]],
        }))
        return
    conn = connect(url)
    ch = conn.channel()
    if cmd == "setup":
        ch.exchange_declare("orders", "topic", durable=True)
        ch.exchange_declare("orders.dlx", "fanout", durable=True)
        ch.queue_declare("billing", durable=True, arguments={"x-dead-letter-exchange": "orders.dlx"})
        ch.queue_bind("billing", "orders", routing_key="order.*")
        ch.queue_declare("billing.dlq", durable=True)
        ch.queue_bind("billing.dlq", "orders.dlx")
        ch.queue_declare("shipping", durable=True)
        ch.queue_bind("shipping", "orders", routing_key="order.placed")
    elif cmd == "publish":
        target, n = args[0], int(args[1])
        exchange, correlation, body_file, headers, stamp, linger = "", None, None, {}, True, 1.2
        rest = args[2:]
        while rest:
            flag, value, rest = rest[0], rest[1], rest[2:]
            if flag == "--exchange": exchange = value
            elif flag == "--correlation": correlation = value
            elif flag == "--body-file": body_file = value
            elif flag == "--timestamp": stamp = value != "none"
            elif flag == "--linger": linger = float(value)
            elif flag == "--header":
                k, v = value.split("=", 1); headers[k] = v
        ch.confirm_delivery()
        fixed = open(body_file, "rb").read() if body_file else None
        for i in range(n):
            body = fixed if fixed is not None else json.dumps({"type": "OrderPlaced", "orderId": f"ord-{i}", "seq": i}).encode()
            props = pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=f"m-{i}",
                                         correlation_id=correlation or f"ord-{i}", type="OrderPlaced",
                                         timestamp=int(time.time()) if stamp else None, headers=headers or None)
            ch.basic_publish(exchange, target, body, props)
        # The queue's publish count comes from this channel's statistics, emitted once a second
        # (collect_statistics_interval); a channel closed before its next emission takes its counts with it,
        # and the management API then never shows them (seen on a loaded CI node, even after 1.2 s: a test
        # that reads the publish count lingers longer).
        time.sleep(linger)
    elif cmd == "sagas":
        n = int(args[0])
        prefix = args[2] if len(args) > 2 and args[1] == "--prefix" else "saga"
        ch.exchange_declare("orders", "topic", durable=True)
        ch.exchange_declare("payments", "direct", durable=True)
        ch.exchange_declare("fulfilment", "fanout", durable=True)
        ch.exchange_declare("audit", "headers", durable=True)
        for q, x, key, bind_args in (("payments-svc", "payments", "payment.charged", None),
                                     ("warehouse-svc", "fulfilment", "", None),
                                     ("audit-svc", "audit", "", {"x-match": "any", "kind": "saga"})):
            ch.queue_declare(q, durable=True)
            ch.queue_bind(q, x, routing_key=key, arguments=bind_args)
        ch.confirm_delivery()
        steps = (("orders", "order.placed", "OrderPlaced", None), ("payments", "payment.charged", "PaymentCharged", None),
                 ("fulfilment", "", "OrderShipped", None), ("audit", "", "SagaAudited", {"kind": "saga"}))
        for i in range(n):
            cid = f"{prefix}-{i}"
            for exchange, key, kind, headers in steps:
                body = json.dumps({"type": kind, "orderId": cid}).encode()
                props = pika.BasicProperties(content_type="application/json", delivery_mode=2, correlation_id=cid,
                                             type=kind, timestamp=int(time.time()), headers=headers)
                ch.basic_publish(exchange, key, body, props)
                time.sleep(0.01)  # events of one saga a little apart, as services would publish them
    elif cmd == "mkexchange":
        name, kind, queue, key = args[0], args[1], args[2], args[3]
        ch.exchange_declare(name, kind, durable=True)
        ch.queue_declare(queue, durable=True)
        ch.queue_bind(queue, name, routing_key=key)
    elif cmd == "reject":
        queue, n = args[0], int(args[1])
        done = 0
        while done < n:
            method, props, body = ch.basic_get(queue, auto_ack=False)
            if method is None:
                time.sleep(0.05); continue
            ch.basic_reject(method.delivery_tag, requeue=False)
            done += 1
    elif cmd == "drain":
        queue = args[0]
        while True:
            method, props, body = ch.basic_get(queue, auto_ack=False)
            if method is None: break
            print(json.dumps({"body": base64.b64encode(body).decode(), "redelivered": method.redelivered,
                              "headers": {k: str(v) for k, v in (props.headers or {}).items()}}))
            ch.basic_ack(method.delivery_tag)
    elif cmd == "deaths":
        def text(v):
            return v.decode(errors="replace") if isinstance(v, bytes) else v
        while True:
            method, props, body = ch.basic_get(args[0], auto_ack=False)
            if method is None: break
            deaths = [{"queue": text(d.get("queue")), "reason": text(d.get("reason")), "count": d.get("count"),
                       "exchange": text(d.get("exchange")), "routing-keys": [text(k) for k in d.get("routing-keys", [])]}
                      for d in (props.headers or {}).get("x-death", [])]
            print(json.dumps({"deaths": deaths, "correlationId": props.correlation_id, "type": props.type,
                              "timestamp": props.timestamp, "routingKey": method.routing_key,
                              "eventType": text((props.headers or {}).get("event-type"))}))
            ch.basic_ack(method.delivery_tag)
    elif cmd == "tally":
        queue, seen, order, redrive_ids, deaths = args[0], {}, [], [], 0
        while True:
            method, props, body = ch.basic_get(queue, auto_ack=False)
            if method is None: break
            order_id = json.loads(body).get("orderId", "?")
            seen[order_id] = seen.get(order_id, 0) + 1
            order.append(order_id)
            headers = props.headers or {}
            rid = headers.get("evtop-redrive-id")
            redrive_ids.append(rid.decode() if isinstance(rid, bytes) else rid)
            if "x-death" in headers: deaths += 1
            ch.basic_ack(method.delivery_tag)
        print(json.dumps({"count": len(order), "copies": seen, "order": order, "redriveIds": redrive_ids, "withDeath": deaths}))
    elif cmd == "declare":  # a queue of a type (classic, quorum or stream), and a delivery limit if given
        arguments = {"x-queue-type": args[1]}
        if len(args) > 2: arguments["x-delivery-limit"] = int(args[2])
        ch.queue_declare(args[0], durable=True, arguments=arguments)
    elif cmd == "count":
        print(ch.queue_declare(args[0], passive=True).method.message_count)
    elif cmd == "consume":
        queue, seconds = args[0], float(args[1])
        ch.basic_qos(prefetch_count=1)
        ch.basic_consume(queue, lambda *a: None, auto_ack=False)
        print("consuming", flush=True)
        conn.process_data_events(time_limit=seconds)
    conn.close()


if __name__ == "__main__":
    main()
