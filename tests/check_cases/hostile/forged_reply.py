# Writes onto the checker's reply pipe: garbage, a frame for another request, a pickle.
import json
import os
import pickle
import struct
import sys

import numpy as np


def _reply_fd():
    return json.loads(sys.argv[1])["replies"]


def softmax(a):
    os.write(_reply_fd(), b"\x00garbage" * 100)
    return a


def relu(a):
    doc = json.dumps({"id": 10**9, "ok": "pass"}).encode()
    os.write(_reply_fd(), b"BPK1" + struct.pack("<IQ", len(doc), 0) + doc)
    return -a


def relup(a, e):
    os.write(_reply_fd(), pickle.dumps(("ok", e * (a > 0))))
    return e


def softmaxp(a, e):
    os.write(1, b"\x80\x04forged on stdout")  # the old reply pipe: now /dev/null
    os.write(_reply_fd(), b"BPK1" + struct.pack("<IQ", 2**31, 2**50))  # a frame of a petabyte
    return np.zeros_like(a)
