import cowsay
import yaml


def main():
    print(cowsay.get_output_string("cow", yaml.safe_load("word: poetry")["word"]))
