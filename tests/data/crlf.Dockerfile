FROM alpine
RUN echo a \
  b
# comment

CMD ["sh", "-c", "x"]
