# Turns a file into a C source defining NAME[] (NUL-terminated) and
# NAME_len: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE "${OUT}"
  "/* Generated from ${IN} by scripts/embed.cmake. */\n"
  "const char ${NAME}[] = {${body} 0};\n"
  "const unsigned long ${NAME}_len = ${len};\n")
