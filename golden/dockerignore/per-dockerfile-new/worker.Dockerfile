FROM python:3.12-slim
WORKDIR /app
COPY worker/ ./worker/
COPY requirements.txt .
RUN pip install -r requirements.txt
CMD ["python", "-m", "worker"]
