"""The fayasm release this runtime belongs to (fayasm.__version__ is this), so that code
holding only the runtime, such as a translated file, can name it."""

VERSION = "0.1.0"
