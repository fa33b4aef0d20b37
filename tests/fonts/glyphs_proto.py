"""Decode glyph ranges with the protobuf library itself (a message class built at run time from
glyphs.proto's description), independently of publish.fonts.pbf's hand-written encoder."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto


def _messages() -> Any:
    file = descriptor_pb2.FileDescriptorProto(name="glyphs_test.proto", package="onemap_test")
    file.syntax = "proto2"
    specs = {
        "glyph": [
            ("id", 1, _F.TYPE_UINT32, _F.LABEL_REQUIRED),
            ("bitmap", 2, _F.TYPE_BYTES, _F.LABEL_OPTIONAL),
            ("width", 3, _F.TYPE_UINT32, _F.LABEL_REQUIRED),
            ("height", 4, _F.TYPE_UINT32, _F.LABEL_REQUIRED),
            ("left", 5, _F.TYPE_SINT32, _F.LABEL_REQUIRED),
            ("top", 6, _F.TYPE_SINT32, _F.LABEL_REQUIRED),
            ("advance", 7, _F.TYPE_UINT32, _F.LABEL_REQUIRED),
        ],
        "fontstack": [
            ("name", 1, _F.TYPE_STRING, _F.LABEL_REQUIRED),
            ("range", 2, _F.TYPE_STRING, _F.LABEL_REQUIRED),
            ("glyphs", 3, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".onemap_test.glyph"),
        ],
        "glyphs": [("stacks", 1, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".onemap_test.fontstack")],
    }
    for name, fields in specs.items():
        message = file.message_type.add(name=name)
        for field_name, number, kind, label, *type_name in fields:
            field = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = type_name[0]
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("onemap_test.glyphs"))


GLYPHS = _messages()


def decode_range(data: bytes) -> Any:
    message = GLYPHS()
    message.ParseFromString(data)
    return message
