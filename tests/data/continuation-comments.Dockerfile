FROM alpine
RUN apt-get update \
# a comment inside
    && apt-get install -y curl \

   # indented comment
  	
    && echo done
  # a comment after
CMD ["x"]
