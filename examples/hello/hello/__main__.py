import platform
import sys

import cowsay

print(cowsay.get_output_string("cow", "Hello from acai!"))
print(f"Python {platform.python_version()} from {sys.prefix}")
