"""A task of its own, in one folder, for the test of the task contract: which letter a string of a's
and b's starts with, read by an LSTM to the end (it has to remember the first step).

    lstmkit first train --out RUN [--epochs N]       lstmkit first predict RUN abba ...
    POST /v1/first {"texts": ["abba"]}                the page's "First letter" tab
"""

from lstmkit.limits import LIMITS as COMMON_LIMITS
from lstmkit.limits import whole
from lstmkit.tasks.base import Task, lazy

LIMITS = {**COMMON_LIMITS, "strings": whole(2, 100_000)}

TASK = Task(name="first", title="First letter", help="which letter a string of a's and b's starts with",
            load=lazy(f"{__name__}.work", "open_predictor"), add_commands=lazy(f"{__name__}.work", "add_verbs"),
            module=__name__, limits=LIMITS, service=lazy(f"{__name__}.work", "service"), panel="panel")
