#!/usr/bin/env python3
"""Opens a streamlib recording with the `mcap` Python package (a reader not written by
streamlib) and checks what it holds: every expected topic is there with its schema and at least
one message; each streamlib message starts with its frame number; `sensor_msgs/msg/Image`
channels decode with `mcap-ros2-support` (when installed) into images whose data fills
step x height. Usage: mcap_check.py FILE TOPIC=SCHEMA [TOPIC=SCHEMA ...]. Exit 0 when all holds."""

import struct
import sys

from mcap.reader import make_reader


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    expected = dict(arg.split("=", 1) for arg in argv[2:])
    counts, schemas, encodings = {}, {}, {}
    with open(argv[1], "rb") as f:
        reader = make_reader(f)
        for schema, channel, message in reader.iter_messages():
            topic = channel.topic
            counts[topic] = counts.get(topic, 0) + 1
            schemas[topic] = (schema.name, schema.encoding) if schema else None
            encodings[topic] = channel.message_encoding
            if channel.message_encoding == "streamlib.codec.v1" and len(message.data) < 8:
                print(f"{topic}: a message of {len(message.data)} bytes has no frame number")
                return 1
            struct.unpack_from("<Q", message.data, 0)
        summary = reader.get_summary()
    ok = True
    for topic, schema in expected.items():
        if counts.get(topic, 0) == 0:
            print(f"missing topic {topic} (file has {sorted(counts)})")
            ok = False
        elif "/" in schema and (schemas[topic] != (schema, "ros2msg") or encodings[topic] != "cdr"):
            print(f"{topic}: schema {schemas[topic]}, encoding {encodings[topic]}, expected {schema} in ros2msg/cdr")
            ok = False
        elif "/" not in schema and (schemas[topic] != (schema, "streamlib.codec") or encodings[topic] != "streamlib.codec.v1"):
            print(f"{topic}: schema {schemas[topic]}, encoding {encodings[topic]}, expected {schema}")
            ok = False
    stats = summary.statistics if summary else None
    for topic in sorted(counts):
        print(f"{topic}: {counts[topic]} messages, schema {schemas[topic]}")
    if stats is not None:
        print(f"statistics: {stats.message_count} messages, {stats.channel_count} channels, "
              f"{stats.chunk_count} chunks")
        if stats.message_count != sum(counts.values()):
            print("the summary's message count disagrees with the messages read")
            ok = False
    images = [t for t, s in expected.items() if s == "sensor_msgs/msg/Image"]
    if images:
        try:
            from mcap_ros2.decoder import DecoderFactory
        except ImportError:
            DecoderFactory = None
            print("mcap-ros2-support not installed: image channels not decoded (pip install mcap-ros2-support)")
        if DecoderFactory is not None:
            decoded = 0
            with open(argv[1], "rb") as f:
                reader = make_reader(f, decoder_factories=[DecoderFactory()])
                for _, channel, _, image in reader.iter_decoded_messages(topics=images):
                    if image.step * image.height != len(image.data) or image.encoding != "rgba8":
                        print(f"{channel.topic}: {image.width}x{image.height} {image.encoding}, "
                              f"step {image.step}, {len(image.data)} bytes: inconsistent")
                        ok = False
                    decoded += 1
                    last = image
            if decoded:
                print(f"decoded {decoded} sensor_msgs/msg/Image messages with mcap-ros2-support, "
                      f"last {last.width}x{last.height} {last.encoding}")
            else:
                print("no image decoded")
                ok = False
    print("mcap (Python) reads the recording: OK" if ok else "mcap (Python): FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
